import ArgumentParser
import EmbeddingDiagnostics
import Foundation

/// Every file or folder a parsed command will write, read from its options, so that all of them
/// are checked (and report folders created) before any analysis starts, and so that `audit` can
/// keep a check's writes inside its folder.
struct OutputLocation: Equatable {
    enum Kind: Equatable {
        /// A report folder (--output): created if missing.
        case folder
        /// One file (--json, --write, --partial, …); `-` is stdout.
        case file
        /// A file stem: the command writes STEM.json, STEM.npy, … beside it (--save-mapping, --save-transform).
        case stem
    }
    /// The option as typed on the command line (`--json`) or, for a positional output, its name.
    var flag: String
    var path: String
    var kind: Kind
    /// Files the command writes beside this output under names derived from it (convert's
    /// OUT.labels.txt, --save-transform's T.<k>.npy): claimed and checked like the output itself,
    /// against every input and every other output.
    var sideFiles: [String] = []
}

enum OutputLocations {
    /// The options (by property name) that name something a command writes. Every command's
    /// options are listed in one place: a new output option added here is checked everywhere
    /// (CLI pre-flight, audit containment); `OutputHostileTests` fails when an option whose help
    /// says it writes or saves is missing.
    static let properties: [String: OutputLocation.Kind] = [
        "output": .folder, "json": .file, "html": .file, "partial": .file, "write": .file, "writeDirection": .file,
        "stateOut": .file, "saveTransform": .stem, "saveMapping": .stem, "outputPath": .file, "outputFile": .file,
        "saveReference": .file,
    ]

    /// The flag spelling of a property name (saveMapping → --save-mapping), as ArgumentParser derives it.
    static func flag(_ property: String) -> String {
        "--" + property.reduce(into: "") { out, c in
            if c.isUppercase { out += "-" + c.lowercased() } else { out.append(c) }
        }
    }

    /// The output locations of `command` (its own options and those of its option groups).
    /// - Complexity: O(number of options).
    static func of(_ command: Any) -> [OutputLocation] {
        var found: [OutputLocation] = []
        for child in Mirror(reflecting: command).children {
            guard let label = child.label else { continue }
            let name = label.hasPrefix("_") ? String(label.dropFirst()) : label
            if let group = child.value as? OptionGroup<OutputOptions> {
                found += of(group.wrappedValue)
                continue
            }
            if let group = child.value as? OptionGroup<PartialOptions> {
                found += of(group.wrappedValue)
                continue
            }
            // `bias sentences --output TABLE` writes one file (its property is `table`: `output` is
            // a report folder everywhere else).
            if name == "table", command is BiasSentencesCommand, let table = child.value as? Option<String> {
                found.append(OutputLocation(flag: "--output", path: table.wrappedValue, kind: .file))
                continue
            }
            guard var kind = properties[name] else { continue }
            // relrep's --write also writes OUT.json beside the matrix (anchors, settings).
            if name == "write" && command is RelrepCommand { kind = .stem }
            var value: String?, shown = flag(name)
            if let option = child.value as? Option<String?> { value = option.wrappedValue }
            else if let option = child.value as? Option<String> { value = option.wrappedValue }
            else if let argument = child.value as? Argument<String> { value = argument.wrappedValue; shown = "the output file" }
            else if let plain = child.value as? String? { value = plain }
            if let value {
                // --save-transform writes T.json and T.<k>.npy: exactly those, not a stem's guesses.
                if name == "saveTransform" { kind = .file }
                found.append(OutputLocation(flag: shown, path: value, kind: kind, sideFiles: sideFiles(of: command, property: name, path: value)))
            }
        }
        return found
    }

    /// The files a command writes beside the output named by `property` (= `path`), under names
    /// derived from it. Every writer of a side file is listed here, so that the pre-flight checks
    /// see every file a command may write.
    /// - Complexity: O(steps of a transform).
    static func sideFiles(of command: Any, property: String, path: String) -> [String] {
        switch (command, property) {
        case (let convert as ConvertCommand, "outputPath"):
            let format = convert.to?.format ?? (try? EmbeddingWriter.format(forOutputPath: path))
            return format == .npy ? [LabelledMatrix.labelsPath(path)] : []
        case (is DepthCommand, "write"), (is AnisotropyCommand, "write"):
            return (try? EmbeddingWriter.format(forOutputPath: path)) == .npy ? [LabelledMatrix.labelsPath(path)] : []
        case (let anisotropy as AnisotropyCommand, "saveTransform"):
            let steps = anisotropy.transform.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.count
            return (0..<steps).map { IsotropyTransform.matrixPath(savedTo: path, step: $0) }
        default:
            return []
        }
    }

    /// Checks every location before the analysis runs (and creates report folders): a folder must
    /// be a folder (or creatable); a file must not be a folder, its folder must exist and be
    /// writable (or be the report folder); two outputs may not name the same file, nor a file the
    /// report folder writes itself. Throws one line naming the option and the path (exit 2).
    /// - Complexity: O(locations²) path comparisons plus one stat per location.
    static func prepare(_ locations: [OutputLocation]) throws {
        if let empty = locations.first(where: { $0.path.isEmpty }) { throw EmbdiagError.usage("\(empty.flag): an empty path") }
        try refuseSharedFiles(locations)
        let fm = FileManager.default
        for folder in locations where folder.kind == .folder {
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: folder.path, isDirectory: &isDirectory) {
                guard isDirectory.boolValue else { throw EmbdiagError.io(folder.path, "\(folder.flag): exists and is not a folder; give a folder for the report") }
                guard access(folder.path, W_OK | X_OK) == 0 else { throw EmbdiagError.io(folder.path, "\(folder.flag): the folder is not writable") }
            } else {
                try ReportWriter.createOutputFolder(folder.path)
            }
        }
        // A file written beside an output (OUT.labels.txt, T.<k>.npy) may not be a folder or read-only.
        for location in locations {
            for side in location.sideFiles {
                var isDirectory: ObjCBool = false
                guard fm.fileExists(atPath: side, isDirectory: &isDirectory) else { continue }
                guard !isDirectory.boolValue else { throw EmbdiagError.io(side, "\(location.flag) \(location.path) also writes \(side), which is a folder; give the output another name") }
                guard access(side, W_OK) == 0 else { throw EmbdiagError.io(side, "\(location.flag) \(location.path) also writes \(side), which exists and is not writable") }
            }
        }
        for location in locations where location.kind != .folder && location.path != "-" {
            let path = location.path
            guard !path.isEmpty else { throw EmbdiagError.usage("\(location.flag): an empty path") }
            var isDirectory: ObjCBool = false
            if location.kind == .file, fm.fileExists(atPath: path, isDirectory: &isDirectory) {
                guard !isDirectory.boolValue else { throw EmbdiagError.io(path, "\(location.flag): is a folder; give a file name") }
                guard access(path, W_OK) == 0 else { throw EmbdiagError.io(path, "\(location.flag): the file exists and is not writable") }
                // A device or FIFO (/dev/stdout) is written directly, not replaced: its folder need not be writable.
                var st = stat()
                if stat(path, &st) == 0 && (st.st_mode & S_IFMT) != S_IFREG { continue }
            }
            // The folder the file will really be created in (a symbolic link is written through).
            let parent = URL(fileURLWithPath: PathContainment.resolve(path)).deletingLastPathComponent().path
            var parentIsDirectory: ObjCBool = false
            guard fm.fileExists(atPath: parent, isDirectory: &parentIsDirectory), parentIsDirectory.boolValue else {
                throw EmbdiagError.io(path, "\(location.flag): the folder \(parent) does not exist (create it first)")
            }
            guard access(parent, W_OK | X_OK) == 0 else { throw EmbdiagError.io(path, "\(location.flag): the folder \(parent) is not writable") }
        }
    }

    /// True for `-` and for a path that is the file, device or pipe this process's stdout
    /// (descriptor 1) writes to: the same device and inode, links followed.
    /// - Complexity: two stat calls.
    static func isStandardOutput(_ path: String?) -> Bool {
        guard let path, !path.isEmpty else { return false }
        if path == "-" { return true }
        var out = stat(), named = stat()
        guard fstat(1, &out) == 0, stat(path, &named) == 0 else { return false }
        return out.st_dev == named.st_dev && out.st_ino == named.st_ino
    }

    /// The files a location writes: a report folder's report.json/.txt/.html, a file itself, a
    /// stem itself and the .json/.npy written beside it (`--save-mapping m.npy` also writes m.json).
    static func files(of location: OutputLocation) -> [String] {
        switch location.kind {
        case .folder: return ["report.json", "report.txt", "report.html"].map { location.path + "/" + $0 }
        case .file: return [location.path] + location.sideFiles
        case .stem:
            let stem = URL(fileURLWithPath: location.path).deletingPathExtension().path
            return [location.path] + [".json", ".npy"].flatMap { [location.path + $0, stem + $0] } + location.sideFiles
        }
    }

    /// Refuses two outputs that would write the same file, links resolved: `--json a.json --html
    /// a.json`, `--output DIR --json DIR/report.json`, `--save-mapping m.npy --json m.json`, and
    /// any other output written straight into a report folder under a name ending in .csv
    /// (`--output DIR --json DIR/tests.csv`): the folder gets one CSV per report table, named
    /// after tables the analysis decides, and removes the CSVs of an earlier report's tables, so
    /// no .csv name there is safe to claim before the analysis has run.
    /// - Complexity: O(files) path resolutions and dictionary lookups.
    static func refuseSharedFiles(_ locations: [OutputLocation]) throws {
        // `-` and a path that is this process's stdout (/dev/stdout, /dev/fd/1, /proc/self/fd/1,
        // or the file stdout is redirected to) are one destination.
        let toStdout = locations.filter { $0.kind == .file && isStandardOutput($0.path) }
        if toStdout.count > 1 {
            let (a, b) = (toStdout[0], toStdout[1])
            throw EmbdiagError.usage("\(a.flag) \(a.path) and \(b.flag) \(b.path) both write to standard output (one document would replace or interleave with the other); give one of them a file")
        }
        let folders = locations.filter { $0.kind == .folder && !$0.path.isEmpty }.map { ($0, PathContainment.resolve($0.path)) }
        for location in locations where location.kind != .folder && location.path != "-" && !location.path.isEmpty {
            for file in files(of: location) {
                let resolved = PathContainment.resolve(file) as NSString
                guard resolved.pathExtension.lowercased() == "csv",
                      let (folder, _) = folders.first(where: { $0.1 == resolved.deletingLastPathComponent }) else { continue }
                throw EmbdiagError.usage("\(location.flag) \(location.path) would write \(resolved.lastPathComponent) inside the report folder \(folder.path), where \(folder.flag) writes report.json, report.txt, report.html and one CSV per report table (named by the analysis, and earlier reports' CSVs are removed): give it a name that does not end in .csv, or put it outside \(folder.path)")
            }
        }
        // A report folder named like a file another output writes (`--write r.npy` also writes
        // r.json; `--output r.json`): one of the two would find a folder or a file in its way.
        for (folder, resolvedFolder) in folders {
            for location in locations where location != folder && location.path != "-" && !location.path.isEmpty {
                guard files(of: location).contains(where: { PathContainment.resolve($0) == resolvedFolder }) else { continue }
                throw EmbdiagError.usage("\(folder.flag) \(folder.path) is a report folder, and \(location.flag) \(location.path) writes the file \(folder.path); give each output its own name")
            }
        }
        var claimed: [String: (file: String, location: OutputLocation)] = [:]
        for location in locations where location.path != "-" && !location.path.isEmpty {
            for file in Set(files(of: location).map { PathContainment.resolve($0) }).sorted() {
                guard let other = claimed[file] else { claimed[file] = (file, location); continue }
                guard other.location != location else { continue }
                let named = { (l: OutputLocation) in l.kind == .file && PathContainment.resolve(l.path) == file }
                if named(location) && named(other.location) {
                    throw EmbdiagError.usage("\(location.flag) \(location.path) and \(other.location.flag) \(other.location.path) are the same file; give each output its own name")
                }
                throw EmbdiagError.usage("\(location.flag) \(location.path) and \(other.location.flag) \(other.location.path) both write \(file) (they are the same file); give each output its own name")
            }
        }
    }

    /// Refuses an output that would replace one of the command's own inputs (`--json v.npy` with
    /// v.npy an input, `--state-out` onto a merged state, `--output DIR` when DIR/report.json is an
    /// input): every command-line word that names an existing regular file is compared, links
    /// resolved, with what the outputs write. A word that is an output's own value counts for that
    /// output only, so `shift v.npy b.npy --json v.npy` (v.npy twice) is caught.
    /// - Complexity: O(words · locations) path comparisons plus one stat per word.
    static func refuseOverwritingInputs(_ locations: [OutputLocation], arguments: [String]) throws {
        // Outputs that collide are a usage error of their own, not an output overwriting an input.
        try refuseSharedFiles(locations)
        let fm = FileManager.default
        // Written exactly where named: a word equal to it beyond the outputs' own is an input.
        var named: [String: (count: Int, location: OutputLocation)] = [:]
        // Written beside or inside what was named: any word equal to it is an input.
        var derived: [String: OutputLocation] = [:]
        for location in locations where location.path != "-" && !location.path.isEmpty {
            switch location.kind {
            case .folder:
                for file in files(of: location) { derived[PathContainment.resolve(file)] = location }
            case .file:
                let r = PathContainment.resolve(location.path)
                named[r] = ((named[r]?.count ?? 0) + 1, location)
                for side in location.sideFiles where PathContainment.resolve(side) != r {
                    derived[PathContainment.resolve(side)] = location
                }
            case .stem:
                let r = PathContainment.resolve(location.path)
                named[r] = ((named[r]?.count ?? 0) + 1, location)
                for candidate in files(of: location) where PathContainment.resolve(candidate) != r {
                    derived[PathContainment.resolve(candidate)] = location
                }
            }
        }
        var seen: [String: Int] = [:]
        for word in arguments {
            let value = word.hasPrefix("--") ? (word.split(separator: "=", maxSplits: 1).dropFirst().first.map(String.init) ?? word) : word
            var isDirectory: ObjCBool = false
            guard !value.isEmpty, fm.fileExists(atPath: value, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            var st = stat()
            guard stat(value, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            let r = PathContainment.resolve(value)
            if let location = derived[r] {
                throw EmbdiagError.usage("\(location.flag) \(location.path) would overwrite \(value), which is also an input; give the output another name")
            }
            if let entry = named[r] {
                seen[r, default: 0] += 1
                if seen[r]! > entry.count {
                    throw EmbdiagError.usage("\(entry.location.flag) \(entry.location.path) is also an input; give the output another name")
                }
            }
        }
    }

    /// `--partial` writes a shard's state instead of a report: a report option beside it would be
    /// ignored, so it is refused (the report comes from `embdiag merge`).
    /// - Complexity: O(locations).
    static func refuseReportsWithPartial(_ locations: [OutputLocation]) throws {
        guard locations.contains(where: { $0.flag == "--partial" }),
              let report = locations.first(where: { ["--output", "--json", "--html"].contains($0.flag) }) else { return }
        throw EmbdiagError.usage("\(report.flag) \(report.path): --partial writes this shard's state, not a report; write the report with embdiag merge STATE… \(report.flag) \(report.path)")
    }

    /// The locations of an audit check that lead outside `folder` (symbolic links followed).
    static func outside(_ locations: [OutputLocation], folder: String) -> [OutputLocation] {
        locations.filter { $0.path != "-" && ([$0.path] + $0.sideFiles).contains { !PathContainment.isInside($0, folder: folder) } }
    }
}
