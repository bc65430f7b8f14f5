//! The `fink` binary: parse, run, map the outcome to an exit code (0 ok, 1 failure, 2 usage or
//! plugin-loading error).

fn main() {
    let code = fink::run(std::env::args_os().collect());
    std::process::exit(code);
}
