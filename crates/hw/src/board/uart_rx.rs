//! UART receiver, 8N1, `divisor` clock cycles per bit.
//!
//! The line goes through a two-flop synchronizer and is sampled every clock (the receiver
//! oversamples by `divisor`): a falling edge starts a frame, so the start of the frame is
//! known to one clock whatever its phase. The start bit is checked again at its centre
//! (`divisor/2` cycles after the edge; a shorter low glitch is ignored), then each data bit and the
//! stop bit are sampled at their centres, `divisor` cycles apart. A received byte is a
//! one-cycle pulse on `valid` with `data`; a low stop bit gives a `frame_error` pulse instead
//! and no byte, and the receiver waits for the next falling edge (a line held low — a break —
//! is not read as bytes). Sampling at the centre tolerates a baud mismatch of about ±4%.
//!
//! There is no backpressure on a wire: the consumer takes `valid` bytes in the cycle they
//! appear (the board puts a FIFO here). `divisor` must be at least 2.

//!
//! States (literals in `update`: rust-hdl emits a Rust `const` as an undeclared Verilog
//! identifier): 0 idle, 1 start bit, 2 data bits, 3 stop bit.

use rust_hdl::prelude::*;

/// 8N1 receiver.
#[derive(LogicBlock, Default)]
pub struct UartRx {
    pub clock: Signal<In, Clock>,
    /// Clock cycles per bit (≥ 2).
    pub divisor: Signal<In, Bits<16>>,
    /// The serial line (idle high), asynchronous.
    pub rx: Signal<In, Bit>,
    /// The received byte, while `valid`.
    pub data: Signal<Out, Bits<8>>,
    /// One-cycle pulse: a byte was received.
    pub valid: Signal<Out, Bit>,
    /// One-cycle pulse: a frame ended with a low stop bit (its byte is dropped).
    pub frame_error: Signal<Out, Bit>,
    /// Synchronizer and previous sample, inverted so that power-up zeros read as an idle line.
    sync0_n: DFF<Bit>,
    sync1_n: DFF<Bit>,
    prev_n: DFF<Bit>,
    state: DFF<Bits<2>>,
    count: DFF<Bits<16>>,
    bit_index: DFF<Bits<3>>,
    shift: DFF<Bits<8>>,
    out_data: DFF<Bits<8>>,
    out_valid: DFF<Bit>,
    out_error: DFF<Bit>,
    line: Signal<Local, Bit>,
}

impl Logic for UartRx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, sync0_n, sync1_n, prev_n, state, count, bit_index, shift, out_data,
            out_valid, out_error
        );
        self.sync0_n.d.next = !self.rx.val();
        self.sync1_n.d.next = self.sync0_n.q.val();
        self.prev_n.d.next = self.sync1_n.q.val();
        self.line.next = !self.sync1_n.q.val();
        self.data.next = self.out_data.q.val();
        self.valid.next = self.out_valid.q.val();
        self.frame_error.next = self.out_error.q.val();
        self.out_valid.d.next = false;
        self.out_error.d.next = false;
        if self.state.q.val() == 0 {
            // Falling edge: the start bit begins; look again at its centre.
            if !self.line.val() && !self.prev_n.q.val() {
                self.state.d.next = 1.into();
                // The line is seen two cycles late (synchronizer) and sampled the cycle
                // the count reaches zero: `divisor/2 − 1` puts the sample at the bit centre.
                self.count.d.next = (self.divisor.val() >> 1) - 1;
            }
        } else if self.count.q.val() != 0 {
            self.count.d.next = self.count.q.val() - 1;
        } else {
            self.count.d.next = self.divisor.val() - 1;
            if self.state.q.val() == 1 {
                if self.line.val() {
                    // A glitch, not a start bit.
                    self.state.d.next = 0.into();
                } else {
                    self.state.d.next = 2.into();
                    self.bit_index.d.next = 0.into();
                }
            }
            if self.state.q.val() == 2 {
                if self.line.val() {
                    self.shift.d.next = (self.shift.q.val() >> 1) | 0x80;
                } else {
                    self.shift.d.next = self.shift.q.val() >> 1;
                }
                self.bit_index.d.next = self.bit_index.q.val() + 1;
                if self.bit_index.q.val() == 7 {
                    self.state.d.next = 3.into();
                }
            }
            if self.state.q.val() == 3 {
                self.state.d.next = 0.into();
                if self.line.val() {
                    self.out_data.d.next = self.shift.q.val();
                    self.out_valid.d.next = true;
                } else {
                    self.out_error.d.next = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::testbench::{frame_bits, tick};
    use crate::verify::{lint, require_tool, verilog_of};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Drives `line` (one value per clock) into a receiver; returns (bytes, frame errors).
    fn receive(divisor: u64, line: &[bool]) -> (Vec<u8>, usize) {
        let mut uut = UartRx::default();
        uut.connect_all();
        uut.divisor.next = divisor.into();
        let (mut bytes, mut errors) = (Vec::new(), 0);
        for &b in line
            .iter()
            .chain(std::iter::repeat(&true).take(4 * divisor as usize + 8))
        {
            uut.rx.next = b;
            let (v, d, e) = tick(
                &mut uut,
                |u| &mut u.clock,
                |u| {
                    (
                        u.valid.val(),
                        u.data.val().index() as u8,
                        u.frame_error.val(),
                    )
                },
            );
            if v {
                bytes.push(d);
            }
            errors += e as usize;
        }
        (bytes, errors)
    }

    /// A sender whose bit period is `period` cycles (a fraction: baud mismatch) with `gap`
    /// idle cycles before each frame and the line starting at an arbitrary phase.
    fn line_of(bytes: &[u8], period: f64, gaps: &[usize]) -> Vec<bool> {
        let mut line = vec![true; 3];
        for (&b, &gap) in bytes.iter().zip(gaps) {
            line.extend(std::iter::repeat(true).take(gap));
            let start = line.len();
            for (k, bit) in frame_bits(b).into_iter().enumerate() {
                let end = start + ((k + 1) as f64 * period).round() as usize;
                while line.len() < end {
                    line.push(bit);
                }
            }
        }
        line
    }

    /// Random bytes at random gaps (including none: back to back), with the sender's bit
    /// period off by up to ±3% and the edges at every phase: every byte received, no error.
    #[test]
    fn random_bytes_random_phase_and_baud_error() {
        let mut rng = ChaCha8Rng::seed_from_u64(0x0A47);
        for divisor in [4u64, 7, 16] {
            for mismatch in [-0.03, 0.0, 0.03] {
                let bytes: Vec<u8> = (0..24).map(|_| rng.gen()).collect();
                let gaps: Vec<usize> = (0..24)
                    .map(|_| {
                        if rng.gen_bool(0.5) {
                            0
                        } else {
                            rng.gen_range(0..3 * divisor as usize)
                        }
                    })
                    .collect();
                let line = line_of(&bytes, divisor as f64 * (1.0 + mismatch), &gaps);
                let (got, errors) = receive(divisor, &line);
                assert_eq!(got, bytes, "divisor {divisor} mismatch {mismatch}");
                assert_eq!(errors, 0);
            }
        }
    }

    /// A low pulse shorter than half a bit is not a start bit.
    #[test]
    fn glitch_is_ignored() {
        let divisor = 16;
        let mut line = vec![true; 10];
        line.extend([false; 5]);
        line.extend(vec![true; 40]);
        line.extend(line_of(&[0x5A], divisor as f64, &[0]));
        let (got, errors) = receive(divisor, &line);
        assert_eq!(got, vec![0x5A]);
        assert_eq!(errors, 0);
    }

    /// A low stop bit is a frame error, not a byte; a break (line held low) gives one error
    /// and no bytes; a byte after the line is released again is received.
    #[test]
    fn frame_errors_and_break() {
        let divisor = 8u64;
        let mut bad = line_of(&[0x33], divisor as f64, &[0]);
        let n = bad.len();
        for b in &mut bad[n - divisor as usize..] {
            *b = false; // stop bit low
        }
        bad.extend(vec![true; 20]);
        let (got, errors) = receive(divisor, &bad);
        assert_eq!((got, errors), (vec![], 1));
        let mut brk = vec![true; 5];
        brk.extend(vec![false; 40 * divisor as usize]);
        brk.extend(vec![true; 30]);
        brk.extend(line_of(&[0xC4], divisor as f64, &[0]));
        let (got, errors) = receive(divisor, &brk);
        assert_eq!((got, errors), (vec![0xC4], 1));
    }

    #[test]
    fn verilog_lints() {
        if require_tool("verilator") {
            lint(&verilog_of(&mut UartRx::default()), "top").unwrap();
        }
    }
}
