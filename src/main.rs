use std::process::ExitCode;

use clap::Parser;

use tcpscope::cli::{Cli, CliCommand};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match tcpscope::app::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tcpscope: {e}");
            ExitCode::from(1)
        }
    }
}

#[allow(dead_code)]
fn _uses(_: CliCommand) {}
