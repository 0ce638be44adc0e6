//! RowCut: one window row of `Dk` pixels cut from two adjacent input words, combinational.
//!
//! The wide window generator reads two `Q`-pixel words of a line buffer per window row and
//! needs the `Dk` pixels starting at the window's offset `off < Q` in them. Written by hand
//! because rust-hdl's `hdl_gen` would need the `2Q`-pixel pair as one signal (its shift then
//! runs at that width, `2·8PQ` bits, wider than a window once `2Q > Dk²`) and has no
//! truncating cast: the Verilog here selects constant slices of the two words, a `Q`-way mux
//! of `Dk·B` bits.
//!
//! A row needs only the first `Dk − 1` pixels of the high word, so the rest of `hi_word` is
//! unread (a reviewed waiver in `sim/lint_waivers.vlt`; synthesis drops those bits).

use rust_hdl::prelude::*;

/// `y` = pixels `off .. off + Dk` of `{hi_word, lo_word}` (pixels of `B` bits, `Q = I/B` per
/// word, pixel 0 in the low bits of `lo_word`), zero-extended to `O` bits; `y = 0` when
/// `off ≥ Q`. Requires `B | I`, `Dk ≤ Q + 1`, `Dk·B ≤ O`.
#[derive(LogicBlock)]
pub struct RowCut<const I: usize, const B: usize, const O: usize> {
    pub lo_word: Signal<In, Bits<I>>,
    pub hi_word: Signal<In, Bits<I>>,
    pub off: Signal<In, Bits<8>>,
    pub y: Signal<Out, Bits<O>>,
    /// `Dk`, the pixels of a row (ignored by the HDL generator: leading underscore).
    _taps: usize,
}

impl<const I: usize, const B: usize, const O: usize> RowCut<I, B, O> {
    /// The cut of `taps = Dk` pixels.
    pub fn new(taps: usize) -> Self {
        assert!(B >= 1 && I % B == 0, "RowCut<{I}, {B}, {O}>: B must divide I");
        let q = I / B;
        assert!(
            taps >= 1 && taps <= q + 1 && taps * B <= O && q <= 256,
            "RowCut<{I}, {B}, {O}>: need 1 <= Dk = {taps} <= Q + 1 = {}, Dk·B <= O, Q <= 256",
            q + 1
        );
        Self { lo_word: Default::default(), hi_word: Default::default(), off: Default::default(), y: Default::default(), _taps: taps }
    }

    /// Bits of the row.
    fn row_bits(&self) -> usize {
        self._taps * B
    }
}

impl<const I: usize, const B: usize, const O: usize> Default for RowCut<I, B, O> {
    /// A 3-pixel row.
    fn default() -> Self {
        Self::new(3)
    }
}

impl<const I: usize, const B: usize, const O: usize> Logic for RowCut<I, B, O> {
    fn update(&mut self) {
        let (lo, hi) = (self.lo_word.val(), self.hi_word.val());
        let off = self.off.val().to_u64() as usize;
        let mut out = Bits::<O>::default();
        if off < I / B {
            for k in 0..self.row_bits() {
                let t = off * B + k;
                let bit = if t < I { lo.get_bit(t) } else { hi.get_bit(t - I) };
                out = out.replace_bit(k, bit);
            }
        }
        self.y.next = out;
    }

    fn connect(&mut self) {
        self.y.connect();
    }

    fn hdl(&self) -> Verilog {
        let r = self.row_bits();
        let mut body = String::from("always @(*) begin\n   case (off)\n");
        for o in 0..I / B {
            let start = o * B;
            // Most significant part first: the high word's pixels, then the low word's.
            let mut parts = vec![];
            if O > r {
                parts.push(format!("{}'d0", O - r));
            }
            if start + r > I {
                parts.push(format!("hi_word[{}:0]", start + r - I - 1));
            }
            parts.push(format!("lo_word[{}:{start}]", (start + r).min(I) - 1));
            body.push_str(&format!("      8'd{o}: y = {{{}}};\n", parts.join(", ")));
        }
        body.push_str(&format!("      default: y = {O}'d0;\n   endcase\nend\n"));
        Verilog::Custom(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{iverilog_compile, lint, require_tool, verilog_of};

    /// Every offset of 4-pixel words (pixels of 4 bits), rows of 3 and 5 pixels, against the
    /// pixels themselves.
    #[test]
    fn cuts_the_row_at_every_offset() {
        fn run<const O: usize>(taps: usize) {
            let mut uut = RowCut::<16, 4, O>::new(taps);
            uut.connect_all();
            let (lo, hi) = (0x3210u64, 0x7654u64);
            for off in 0..6u64 {
                uut.lo_word.next = lo.into();
                uut.hi_word.next = hi.into();
                uut.off.next = off.into();
                assert!(simulate(&mut uut, 10));
                let pair = (hi << 16) | lo;
                let want = if off < 4 { (pair >> (4 * off)) & ((1 << (4 * taps)) - 1) } else { 0 };
                assert_eq!(uut.y.val(), Bits::<O>::from(want), "Dk = {taps}, off = {off}");
            }
        }
        run::<12>(3);
        run::<24>(5);
    }

    #[test]
    #[should_panic(expected = "Dk = 6")]
    fn a_row_wider_than_two_words_is_refused() {
        let _ = RowCut::<16, 4, 24>::new(6);
    }

    #[test]
    fn verilog_is_lint_clean_and_compiles() {
        for v in [
            verilog_of(&mut RowCut::<16, 4, 12>::new(3)),
            verilog_of(&mut RowCut::<16, 4, 36>::new(3)),
            verilog_of(&mut RowCut::<16, 4, 24>::new(5)),
            verilog_of(&mut RowCut::<64, 4, 36>::new(3)),
        ] {
            if require_tool("verilator") {
                lint(&v, "top").unwrap();
            }
            if require_tool("iverilog") {
                iverilog_compile(&v).unwrap();
            }
        }
    }
}
