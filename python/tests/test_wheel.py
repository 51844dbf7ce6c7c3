# SPDX-License-Identifier: GPL-3.0-or-later
"""The installed wheel is self-contained: the binary resolves every library inside the wheel or
from the system libraries the manylinux policy allows, nothing from a Swift toolchain or a -dev
package; OpenBLAS is the bundled DYNAMIC_ARCH build (its kernel chosen at run time)."""

import os
import subprocess

import embdiag

ALLOWED = {"linux-vdso.so.1", "libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "libz.so.1",
           "libresolv.so.2", "libpthread.so.0", "libdl.so.2", "librt.so.1", "/lib64/ld-linux-x86-64.so.2"}


def test_installed_from_the_wheel():
    assert "site-packages" in embdiag.__file__
    assert embdiag.binary_path().startswith(os.path.dirname(embdiag.__file__))
    assert "EMBDIAG_BINARY" not in os.environ


def test_ldd_resolves_inside_the_wheel():
    libs = os.path.join(os.path.dirname(os.path.dirname(embdiag.__file__)), "embdiag.libs")
    out = subprocess.run(["ldd", embdiag.binary_path()], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        name = parts[0]
        target = parts[2] if len(parts) > 2 and parts[1] == "=>" else None
        assert "not found" not in line, line
        assert "/opt/swift" not in line and "swift" not in name.lower(), line
        if target and os.path.realpath(os.path.dirname(target)) == os.path.realpath(libs):
            continue
        assert name in ALLOWED, f"resolved outside the wheel: {line.strip()}"


def test_openblas_is_bundled_and_picks_its_kernel():
    libs = os.listdir(os.path.join(os.path.dirname(os.path.dirname(embdiag.__file__)), "embdiag.libs"))
    assert any(name.startswith("libopenblas") for name in libs)
    # A kernel name forced from outside is honoured: the runtime dispatch of a DYNAMIC_ARCH build.
    for core in ("Prescott", "Haswell"):
        env = dict(os.environ, OPENBLAS_CORETYPE=core, OPENBLAS_VERBOSE="2")
        done = subprocess.run([embdiag.binary_path(), "--version"], env=env, capture_output=True, text=True)
        assert done.returncode == 0
        assert core.lower() in (done.stdout + done.stderr).lower(), done.stdout + done.stderr


def test_notices_are_installed():
    from importlib.metadata import distribution
    dist = distribution("embdiag")
    assert dist.metadata["License-Expression"] == "GPL-3.0-or-later"
    files = [str(f) for f in dist.files]
    assert any(f.endswith("licenses/LICENSE") for f in files)
    assert any(f.endswith("third-party/debian/libopenblas0-pthread.copyright") for f in files)
    assert any(f.endswith("third-party/debian/libgsl27.copyright") for f in files)
    assert any(f.endswith("third-party/swift/LICENSE.txt") for f in files)
