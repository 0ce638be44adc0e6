//! The ECP5 sysDSP multiplier (MULT18X18D) with its own registers, for the DSP primitives'
//! ECP5 branch.
//!
//! yosys' ECP5 flow maps a Verilog `*` to a MULT18X18D with every register bypassed and leaves
//! the flip-flops around it in the fabric, so nextpnr times operand register → multiplier →
//! product register as one path through the block: a lone 8 × 8 multiply between registers
//! measured 97.8 MHz. With the block's own product register it measured 188 MHz, with its
//! operand registers as well 190 MHz (nextpnr-ecp5, LFE5U-85F: the multiply's delay then lies
//! between two of the block's registers, and the fabric only routes to and from them).
//!
//! So each DSP primitive ([`RegMul8x8`](super::RegMul8x8), [`Mul32x32`](super::Mul32x32))
//! writes, beside the portable `*` form every simulator and the iCE40 flow read, a MULT18X18D
//! instance behind `` `ifdef DSCGEN_ECP5_DSP `` with the same registers in the block — same
//! latency, same product. The ECP5 synthesis flow defines the macro. Tests run that branch in
//! Icarus with [`MULT18X18D_MODEL`], a behavioural model of the subset used.

/// The macro that selects the MULT18X18D instances.
pub const ECP5_DSP_DEFINE: &str = "DSCGEN_ECP5_DSP";

/// sim/MULT18X18D.v: a behavioural model of the MULT18X18D subset the instances use.
pub const MULT18X18D_MODEL: &str = include_str!("../../../../sim/MULT18X18D.v");

/// A `MULT18X18D` instance `name` clocked by `clock`: `a`, `b` are 18-bit Verilog expressions
/// (both operands signed: callers extend narrower values to 18 bits, zero-extending unsigned
/// ones), `p` a declared 36-bit wire. The operand and product registers are always used (the
/// point of the instance); `b_enable`, a 1-bit expression, enables the B operand register
/// (through CE1; every other register loads on every edge).
pub fn mult18x18d(name: &str, a: &str, b: &str, p: &str, b_enable: Option<&str>) -> String {
    let mut params = vec![
        ".REG_INPUTA_CLK(\"CLK0\")",
        ".REG_INPUTB_CLK(\"CLK0\")",
        ".REG_OUTPUT_CLK(\"CLK0\")",
    ];
    if b_enable.is_some() {
        params.push(".REG_INPUTB_CE(\"CE1\")");
    }
    let ce1 = b_enable.unwrap_or("1'b0");
    let bits = |port: &str, wire: &str, n: usize| -> String {
        (0..n)
            .map(|i| format!(".{port}{i}({wire}[{i}])"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let zeros = (0..18)
        .map(|i| format!(".C{i}(1'b0)"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "wire [17:0] {name}_a = {a};
wire [17:0] {name}_b = {b};
MULT18X18D #({params}) {name} (
   {ab},
   {bb},
   {zeros},
   .SIGNEDA(1'b1), .SIGNEDB(1'b1), .SOURCEA(1'b0), .SOURCEB(1'b0),
   .CLK0(clock), .CE0(1'b1), .CE1({ce1}), .RST0(1'b0),
   {pb}
);
",
        params = params.join(", "),
        ab = bits("A", &format!("{name}_a"), 18),
        bb = bits("B", &format!("{name}_b"), 18),
        pb = bits("P", p, 36),
    )
}
