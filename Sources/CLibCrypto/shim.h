#ifndef EMBDIAG_CLIBCRYPTO_SHIM_H
#define EMBDIAG_CLIBCRYPTO_SHIM_H
// OpenSSL's EVP digest API: SHA-256 of input files at memory speed (SHA-NI), no Swift package build.
#include <openssl/evp.h>
#endif
