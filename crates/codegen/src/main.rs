//! `codegen`: the dscgen command line.

fn main() {
    println!("dscgen codegen: subcommands arrive with their issues");
}
