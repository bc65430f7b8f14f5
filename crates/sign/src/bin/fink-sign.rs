//! `fink-sign <secret key file> <file>...`: writes `<file>.minisig` next to each file, signed
//! with the unencrypted minisign secret key (what `scripts/dist.sh` runs with
//! `FINK_SIGNING_KEY_FILE`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [key_file, files @ ..] = args.as_slice() else {
        eprintln!("usage: fink-sign <secret key file> <file>...");
        return ExitCode::from(2);
    };
    if files.is_empty() {
        eprintln!("usage: fink-sign <secret key file> <file>...");
        return ExitCode::from(2);
    }
    let pair = match std::fs::read_to_string(key_file)
        .map_err(|e| e.to_string())
        .and_then(|text| fink_sign::KeyPair::from_secret_file(&text).map_err(|e| e.to_string()))
    {
        Ok(pair) => pair,
        Err(error) => {
            eprintln!("fink-sign: {key_file}: {error}");
            return ExitCode::from(1);
        }
    };
    for file in files {
        let name = std::path::Path::new(file).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let signed = std::fs::read(file).map(|data| pair.sign(&data, &format!("file:{name}")));
        let written = signed.and_then(|text| std::fs::write(format!("{file}.minisig"), text));
        if let Err(error) = written {
            eprintln!("fink-sign: {file}: {error}");
            return ExitCode::from(1);
        }
        println!("signed {file} with key {}", pair.key_id());
    }
    ExitCode::SUCCESS
}
