//! The top-level port list of a design, and how it is derived from a rust-hdl block.
//!
//! Ports come from rust-hdl's own visitor (`Block::accept` with a [`Probe`]): it gives every
//! top-level signal's direction, width and type (the clock is recognised by its type, not its
//! name). Parsing Verilog text would have to guess widths through `signed`, parameters and
//! rust-hdl's formatting; the probe cannot. The probed names are then checked against the
//! argument list of the generated `module top(...)`, so a change in rust-hdl's naming shows up
//! as a clear error instead of a wrapper that does not elaborate.

use crate::error::{Result, SimError};
use rust_hdl::prelude::{Atom, AtomKind, Block, Probe, TypeKind};
use std::collections::HashMap;

/// Direction of a top-level port, seen from the design.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    Input,
    Output,
}

/// One top-level port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    /// Name in rust-hdl's generated `top` module, e.g. `data_in$tdata`.
    pub hdl_name: String,
    /// Clean ANSI name used in the wrapper, the C++ shim and the Rust API, e.g. `data_in_tdata`.
    pub name: String,
    pub direction: Direction,
    /// Width in bits (≥ 1).
    pub width: usize,
    /// True for the clock input (rust-hdl's `Clock` type). `Model::tick` toggles it.
    pub clock: bool,
}

impl Port {
    /// Number of 32-bit words the value occupies (Verilator's `VlWide` word size).
    pub fn words(&self) -> usize {
        self.width.div_ceil(32)
    }

    /// True when Verilator stores the port as a `VlWide` array (wider than 64 bits).
    pub fn is_wide(&self) -> bool {
        self.width > 64
    }

    /// A port described by hand, for designs given as Verilog text.
    pub fn new(name: &str, direction: Direction, width: usize) -> Port {
        Port {
            hdl_name: name.to_string(),
            name: clean_name(name),
            direction,
            width,
            clock: false,
        }
    }

    /// Marks this port as the clock (builder style).
    pub fn as_clock(mut self) -> Port {
        self.clock = true;
        self
    }
}

/// Collects the parameters (ports) of the top scope, naming them exactly as rust-hdl's
/// `ModuleDefines` does: interface namespaces joined with `$`, namespace reset at each scope.
struct PortProbe {
    depth: usize,
    namespace: Vec<String>,
    ports: Vec<Port>,
}

impl Probe for PortProbe {
    fn visit_start_scope(&mut self, _name: &str, _node: &dyn Block) {
        self.depth += 1;
        self.namespace.clear();
    }
    fn visit_start_namespace(&mut self, name: &str, _node: &dyn Block) {
        self.namespace.push(name.to_string());
    }
    fn visit_atom(&mut self, name: &str, signal: &dyn Atom) {
        if self.depth != 1 {
            return;
        }
        let direction = match signal.kind() {
            AtomKind::InputParameter => Direction::Input,
            AtomKind::OutputParameter | AtomKind::OutputPassthrough => Direction::Output,
            AtomKind::InOutParameter => Direction::Input, // rejected later: no inout at the top
            _ => return,
        };
        let hdl_name = if self.namespace.is_empty() {
            name.to_string()
        } else {
            format!("{}${}", self.namespace.join("$"), name)
        };
        let desc = signal.descriptor();
        let clock = desc.name == "clock" && matches!(desc.kind, TypeKind::Bits(1));
        let mut port = Port {
            name: clean_name(&hdl_name),
            hdl_name,
            direction,
            width: signal.bits(),
            clock,
        };
        if signal.kind() == AtomKind::InOutParameter {
            port.width = 0; // marker, reported by `validate`
        }
        self.ports.push(port);
    }
    fn visit_end_namespace(&mut self, _name: &str, _node: &dyn Block) {
        self.namespace.pop();
    }
    fn visit_end_scope(&mut self, _name: &str, _node: &dyn Block) {
        self.depth -= 1;
    }
}

/// Probes the top-level ports of `block`.
pub fn probe_ports<B: Block>(block: &B) -> Vec<Port> {
    let mut probe = PortProbe {
        depth: 0,
        namespace: Vec::new(),
        ports: Vec::new(),
    };
    block.accept("top", &mut probe);
    probe.ports
}

/// Turns a rust-hdl signal path into a plain identifier that Verilog, C++ and Verilator all
/// keep unchanged: `$` and other symbols become `_`, runs of `_` collapse (Verilator escapes `__`
/// in C++ names), and a leading digit or C++ keyword gets a `p_` prefix.
pub fn clean_name(hdl_name: &str) -> String {
    let mut out = String::with_capacity(hdl_name.len());
    for c in hdl_name.chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '_' };
        if c == '_' && out.ends_with('_') {
            continue;
        }
        out.push(c);
    }
    let out = out.trim_matches('_').to_string();
    if out.is_empty()
        || out.starts_with(|c: char| c.is_ascii_digit())
        || CPP_KEYWORDS.contains(&out.as_str())
    {
        format!("p_{out}")
    } else {
        out
    }
}

/// C++ keywords and names the generated shim, the Verilated class and the wrapper (instance
/// `dut` in module `dsc_top`) use themselves: a port may not shadow them.
const CPP_KEYWORDS: &[&str] = &[
    "alignas", "alignof", "and", "asm", "auto", "bool", "break", "case", "catch", "char",
    "class", "const", "continue", "default", "delete", "do", "double", "else", "enum",
    "explicit", "export", "extern", "false", "float", "for", "friend", "goto", "if", "inline",
    "int", "long", "mutable", "namespace", "new", "noexcept", "not", "nullptr", "operator", "or",
    "private", "protected", "public", "register", "return", "short", "signed", "sizeof",
    "static", "struct", "switch", "template", "this", "throw", "true", "try", "typedef",
    "typename", "union", "unsigned", "using", "virtual", "void", "volatile", "while", "xor",
    "final", "eval", "trace", "name", "contextp", "rootp", "vlSymsp", "dut", "dsc_top",
];

/// Checks a port list for what the harness needs: non-empty, unique clean names, positive
/// widths, at most one clock (a 1-bit input).
pub fn validate(design: &str, ports: &[Port]) -> Result<()> {
    let err = |message: String| SimError::Ports {
        design: design.to_string(),
        message,
    };
    if ports.is_empty() {
        return Err(err("the top block has no ports".into()));
    }
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for p in ports {
        if p.width == 0 {
            return Err(err(format!(
                "port `{}` is inout or zero-width; the harness drives only inputs and outputs",
                p.hdl_name
            )));
        }
        if p.name != clean_name(&p.name) {
            return Err(err(format!("port name `{}` is not a clean identifier", p.name)));
        }
        if let Some(other) = seen.insert(&p.name, &p.hdl_name) {
            return Err(err(format!(
                "ports `{other}` and `{}` both clean to `{}`",
                p.hdl_name, p.name
            )));
        }
        if p.clock && (p.direction != Direction::Input || p.width != 1) {
            return Err(err(format!("clock `{}` must be a 1-bit input", p.hdl_name)));
        }
    }
    let clocks = ports.iter().filter(|p| p.clock).count();
    if clocks > 1 {
        return Err(err(format!(
            "{clocks} clock ports; the harness drives exactly one clock"
        )));
    }
    Ok(())
}

/// Argument names of `module <name>(...)` in Verilog text, in order.
pub fn module_args(verilog: &str, module: &str) -> Option<Vec<String>> {
    let head = format!("module {module}(");
    let start = verilog.find(&head)? + head.len();
    let end = start + verilog[start..].find(')')?;
    Some(
        verilog[start..end]
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    )
}

/// Checks that the probed ports are exactly the arguments of rust-hdl's `module top(...)`.
pub fn check_against_verilog(design: &str, ports: &[Port], verilog: &str) -> Result<()> {
    let err = |message: String| SimError::Ports {
        design: design.to_string(),
        message,
    };
    let args = module_args(verilog, "top")
        .ok_or_else(|| err("generated Verilog has no `module top(...)`".into()))?;
    let mut probed: Vec<&str> = ports.iter().map(|p| p.hdl_name.as_str()).collect();
    let mut declared: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    probed.sort_unstable();
    declared.sort_unstable();
    if probed != declared {
        return Err(err(format!(
            "probed ports {probed:?} differ from `module top` arguments {declared:?}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_names() {
        assert_eq!(clean_name("data_in$tdata"), "data_in_tdata");
        assert_eq!(clean_name("a$$b__c"), "a_b_c");
        assert_eq!(clean_name("class"), "p_class");
        assert_eq!(clean_name("3x"), "p_3x");
        assert_eq!(clean_name("dut"), "p_dut");
    }

    #[test]
    fn module_args_parse() {
        let v = "module foo(x);\nendmodule\nmodule top(clock,a$b,q);\n";
        assert_eq!(module_args(v, "top").unwrap(), vec!["clock", "a$b", "q"]);
        assert!(module_args(v, "bar").is_none());
    }

    #[test]
    fn validate_rejects_clashes_and_two_clocks() {
        let a = Port::new("a$b", Direction::Input, 4);
        let b = Port::new("a_b", Direction::Input, 4);
        let e = validate("d", &[a.clone(), b]).unwrap_err().to_string();
        assert!(e.contains("both clean to `a_b`"), "{e}");
        let c1 = Port::new("c1", Direction::Input, 1).as_clock();
        let c2 = Port::new("c2", Direction::Input, 1).as_clock();
        let e = validate("d", &[c1, c2]).unwrap_err().to_string();
        assert!(e.contains("2 clock ports"), "{e}");
        assert!(validate("d", &[]).is_err());
        assert!(validate("d", &[a]).is_ok());
    }
}
