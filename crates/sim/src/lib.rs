//! Verilator co-simulation of dscgen hardware, driven from Rust (DESIGN §4, rung 3).
//!
//! A rust-hdl top block becomes a [`Design`] (its Verilog and its probed port list); [`build`]
//! wraps it in a top with clean port names, generates a C shim from the port list (askama
//! templates in `templates/`), runs `verilator --cc`, compiles the C++ at -O3 into a shared
//! object, caches it by content hash and loads it. A [`Model`] then runs cycle by cycle:
//! `set`/`get` by port name, `tick`, VCD traces, and AXI4-Stream drivers with seeded stalls
//! ([`stream`]). [`HdlDut`] runs the same block in rust-hdl's simulator behind the same [`Dut`]
//! interface, so every check compares Verilator, rust-hdl and the golden model cycle by cycle.
//!
//! * **Tools**: `verilator`, `make` and `g++` on `PATH` (or [`BuildOptions::tool_path`]); a
//!   missing one is the error "verilator not found: run scripts/setup.sh".
//! * **Cache**: `DSC_SIM_CACHE`, else `dsc-sim-cache` in the cargo target directory. The key
//!   covers the Verilog, wrapper, shim, flags and `verilator --version`; a hit does not run
//!   Verilator ([`BuildInfo::cached`]).
//! * **Traces**: `DSC_TRACE=dir` (or [`BuildOptions::trace_dir`]) builds with `--trace` and
//!   gives every instance its own VCD file; [`Model::open_trace`] opens one by hand.
//! * **Errors**: every failure is a [`SimError`] with a message: unknown port, value too wide,
//!   Verilator or compiler output verbatim, a `$stop`/non-converging model
//!   ([`SimError::Fatal`], which poisons only that instance).
//! * **Threads**: a [`Compiled`] model is `Send + Sync`; a [`Model`] instance is neither (a
//!   Verilated model is single-threaded and built without `--threads`).
//!
//! ```no_run
//! # fn demo<B: rust_hdl::prelude::Block>(mut block: B) -> dsc_sim::Result<()> {
//! let design = dsc_sim::Design::from_block("my_block", &mut block)?;
//! let compiled = dsc_sim::build(&design, &dsc_sim::BuildOptions::default())?;
//! let mut m = compiled.model()?;
//! m.set("a", 3)?;
//! m.tick();
//! let q = m.get("q")?;
//! # Ok(()) }
//! ```

pub mod builder;
pub mod config_port;
pub mod design;
pub mod engine;
pub mod dut;
pub mod error;
pub mod model;
pub mod ports;
pub mod stream;

pub use builder::{build, default_cache_dir, find_tool, BuildInfo, BuildOptions, CACHE_ENV, TRACE_ENV};
pub use design::Design;
pub use dut::{Dut, HdlDut};
pub use error::{Result, SimError};
pub use model::{Compiled, Model, PortId};
pub use ports::{Direction, Port};
pub use stream::{Beat, Received, StreamSink, StreamSource};
