//! A design ready for Verilator: Verilog text, its top module and its port list, plus the
//! generated wrapper and shim sources.

use crate::error::{Result, SimError};
use crate::ports::{self, Direction, Port};
use askama::Template;
use rust_hdl::prelude::{check_all, generate_verilog_unchecked, Block};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Bumped whenever the shim's C ABI changes, so a cached model of an older ABI is rebuilt.
pub const ABI_VERSION: u32 = 2;

/// Verilog plus the port list of its top module.
#[derive(Clone, Debug)]
pub struct Design {
    /// A short name for messages, trace files and cache directories.
    pub name: String,
    /// All Verilog modules of the design.
    pub verilog: String,
    /// The module the wrapper instantiates (`top` for rust-hdl output).
    pub top_module: String,
    pub ports: Vec<Port>,
}

impl Design {
    /// Verilog and ports of a rust-hdl block. Calls `connect_all`, runs rust-hdl's checks
    /// (unconnected signals, logic loops, written inputs) and turns them, or a panic inside the
    /// generator, into an error instead of a crash.
    pub fn from_block<B: Block>(name: &str, block: &mut B) -> Result<Design> {
        let gen_err = |message: String| SimError::Generate {
            design: name.to_string(),
            message,
        };
        let verilog = catch_unwind(AssertUnwindSafe(|| {
            block.connect_all();
            check_all(block).map_err(|e| format!("rust-hdl check failed: {e:?}"))?;
            Ok::<_, String>(generate_verilog_unchecked(block))
        }))
        .map_err(|payload| gen_err(format!("rust-hdl panicked: {}", panic_text(&payload))))?
        .map_err(gen_err)?;
        let ports = ports::probe_ports(block);
        ports::check_against_verilog(name, &ports, &verilog)?;
        ports::validate(name, &ports)?;
        Ok(Design {
            name: name.to_string(),
            verilog,
            top_module: "top".to_string(),
            ports,
        })
    }

    /// A design given as Verilog text with its port list (ports named as in `top_module`).
    pub fn from_verilog(name: &str, verilog: &str, top_module: &str, ports: Vec<Port>) -> Result<Design> {
        ports::validate(name, &ports)?;
        Ok(Design {
            name: name.to_string(),
            verilog: verilog.to_string(),
            top_module: top_module.to_string(),
            ports,
        })
    }

    /// The port with clean name `name`.
    pub fn port(&self, name: &str) -> Option<&Port> {
        self.ports.iter().find(|p| p.name == name)
    }

    /// The wrapper module `dsc_top` with clean ANSI port names.
    pub fn wrapper_verilog(&self) -> Result<String> {
        WrapperTemplate {
            design: &self.name,
            top_module: &self.top_module,
            ports: self.ports.iter().map(TemplatePort::from).collect(),
        }
        .render()
        .map_err(|e| SimError::Template {
            name: "wrapper.v".into(),
            message: e.to_string(),
        })
    }

    /// The `extern "C"` shim over the Verilated model.
    pub fn shim_cpp(&self, trace: bool) -> Result<String> {
        ShimTemplate {
            design: &self.name,
            abi_version: ABI_VERSION,
            trace,
            clock: self.ports.iter().find(|p| p.clock).map(|p| p.name.clone()),
            ports: self.ports.iter().map(TemplatePort::from).collect(),
        }
        .render()
        .map_err(|e| SimError::Template {
            name: "shim.cpp".into(),
            message: e.to_string(),
        })
    }
}

fn panic_text(payload: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-text panic payload)".to_string()
    }
}

/// What the templates need to know about a port.
struct TemplatePort {
    name: String,
    hdl_name: String,
    dir: &'static str,
    range: String,
    input: bool,
    wide: bool,
    words: usize,
    ctype: &'static str,
}

impl From<&Port> for TemplatePort {
    fn from(p: &Port) -> Self {
        TemplatePort {
            name: p.name.clone(),
            hdl_name: p.hdl_name.clone(),
            dir: match p.direction {
                Direction::Input => "input",
                Direction::Output => "output",
            },
            range: if p.width == 1 {
                String::new()
            } else {
                format!("[{}:0] ", p.width - 1)
            },
            input: p.direction == Direction::Input,
            wide: p.is_wide(),
            words: p.words(),
            // Verilator's storage types: CData/SData/IData/QData/VlWide.
            ctype: match p.width {
                0..=8 => "CData",
                9..=16 => "SData",
                17..=32 => "IData",
                33..=64 => "QData",
                _ => "EData",
            },
        }
    }
}

#[derive(Template)]
#[template(path = "wrapper.v", escape = "none")]
struct WrapperTemplate<'a> {
    design: &'a str,
    top_module: &'a str,
    ports: Vec<TemplatePort>,
}

#[derive(Template)]
#[template(path = "shim.cpp", escape = "none")]
struct ShimTemplate<'a> {
    design: &'a str,
    abi_version: u32,
    trace: bool,
    clock: Option<String>,
    ports: Vec<TemplatePort>,
}
