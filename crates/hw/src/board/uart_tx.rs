//! UART transmitter, 8N1: a start bit, eight data bits LSB first, a stop bit, each
//! `divisor` clock cycles long.
//!
//! Bytes come in on a stream; `inp.tready` is high while the line is idle and in the last
//! cycle of a stop bit, so a byte is taken only when the previous frame is done and frames go
//! back to back: one byte per `10·divisor` cycles. `divisor` is a port (the board ties it to `f_clk / baud`) and
//! must be at least 1; it is sampled at every bit.

use crate::stream::StreamIn;
use rust_hdl::prelude::*;

/// 8N1 transmitter.
#[derive(LogicBlock, Default)]
pub struct UartTx {
    pub clock: Signal<In, Clock>,
    /// Clock cycles per bit (≥ 1).
    pub divisor: Signal<In, Bits<16>>,
    /// Bytes to send.
    pub inp: StreamIn<8>,
    /// The serial line (idle high).
    pub tx: Signal<Out, Bit>,
    /// The frame still to send, inverted so that the all-zero power-up value is an idle
    /// line; bit 0 is on the line.
    frame_n: DFF<Bits<10>>,
    bits_left: DFF<Bits<4>>,
    count: DFF<Bits<16>>,
    /// The byte inverted, in its own 8-bit signal: inverting inside the widening expression
    /// would invert the extension bits too in Verilog (the expression is 32 bits wide there).
    data_n: Signal<Local, Bits<8>>,
    /// `inp.tlast` has no meaning on a byte line.
    unused_last: Signal<Local, Bit>,
}

impl Logic for UartTx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, frame_n, bits_left, count);
        self.unused_last.next = self.inp.tlast.val();
        self.tx.next = !self.frame_n.q.val().get_bit(0);
        self.data_n.next = !self.inp.tdata.val();
        // Ready when idle or in the last cycle of a stop bit, so frames go back to back.
        self.inp.tready.next = (self.bits_left.q.val() == 0)
            || ((self.bits_left.q.val() == 1) && (self.count.q.val() == 0));
        if self.inp.tready.val() && self.inp.tvalid.val() {
            // Inverted frame: start bit (0) → 1 at bit 0, data inverted, stop bit (1) → 0.
            self.frame_n.d.next = (bit_cast::<10, 8>(self.data_n.val()) << 1) | 1;
            self.bits_left.d.next = 10.into();
            self.count.d.next = self.divisor.val() - 1;
        } else if self.bits_left.q.val() != 0 {
            if self.count.q.val() == 0 {
                self.frame_n.d.next = self.frame_n.q.val() >> 1;
                self.bits_left.d.next = self.bits_left.q.val() - 1;
                self.count.d.next = self.divisor.val() - 1;
            } else {
                self.count.d.next = self.count.q.val() - 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::testbench::{frame_bits, line_bytes, tick};
    use crate::verify::{lint, require_tool, verilog_of};

    /// Bytes offered back to back at several divisors: the line carries exactly their 8N1
    /// frames, `10·divisor` cycles each, and the decoded bytes are the sent ones.
    #[test]
    fn frames_are_8n1_back_to_back() {
        for divisor in [1u64, 3, 8] {
            let bytes = [0x00u8, 0xFF, 0x55, 0xA3, 0x80, 0x01];
            let mut uut = UartTx::default();
            uut.connect_all();
            uut.divisor.next = divisor.into();
            let mut line = vec![true];
            let mut next = 0;
            let mut first_start = None;
            for cycle in 0..(bytes.len() as u64 * 10 * divisor + 20) {
                uut.inp.tvalid.next = next < bytes.len();
                uut.inp.tdata.next = (*bytes.get(next).unwrap_or(&0) as u64).into();
                uut.inp.tlast.next = false;
                let fire = tick(
                    &mut uut,
                    |u| &mut u.clock,
                    |u| u.inp.tvalid.val() && u.inp.tready.val(),
                );
                line.push(uut.tx.val());
                if fire {
                    next += 1;
                    first_start.get_or_insert(cycle);
                }
            }
            assert_eq!(
                line_bytes(&line, divisor as usize),
                bytes,
                "divisor {divisor}"
            );
            // Exactly the frames back to back, `divisor` cycles per bit from the cycle after
            // the first byte was taken, then an idle line.
            let expect: Vec<bool> = bytes
                .iter()
                .flat_map(|&b| frame_bits(b))
                .flat_map(|bit| std::iter::repeat(bit).take(divisor as usize))
                .collect();
            assert_eq!(first_start, Some(0));
            assert_eq!(&line[1..1 + expect.len()], &expect[..], "divisor {divisor}");
            assert!(
                line[1 + expect.len()..].iter().all(|&b| b),
                "divisor {divisor}: idle after"
            );
        }
    }

    #[test]
    fn verilog_lints() {
        if require_tool("verilator") {
            lint(&verilog_of(&mut UartTx::default()), "top").unwrap();
        }
    }
}
