//! Board support: an engine behind a UART, so a host with a USB-serial cable can load a
//! layer, stream pixels in and read the results back.
//!
//! Blocks: [`UartRx`] and [`UartTx`] (8N1, `divisor` clock cycles per bit), [`ByteBridge`]
//! (the protocol below) and [`BoardTop`] (the three around a depthwise engine, a receive
//! FIFO, a reset button and two LEDs). Pin constraints for real boards are in
//! `constraints/`; `codegen emit` writes the board tops and `codegen synth --board` builds
//! their bitstreams.
//!
//! # Protocol
//!
//! Commands from the host, each an opcode byte and its arguments, little-endian:
//!
//! | opcode | arguments | effect | response |
//! |---|---|---|---|
//! | `'W'` (0x57) | `addr: u32`, `data: u32` | one config-port write (the engine's register map) | none |
//! | `'P'` (0x50) | `beats: u32`, then `beats·P` bytes | `beats` input beats, `P` bytes each, lane 0 first; `tlast` on the last | none |
//! | `'S'` (0x53) | — | read and clear the status | `'S'` (0x53), flags |
//! | any other | — | nothing is written; the flag BAD_OPCODE is set | `'?'` (0x3F), the opcode |
//!
//! The engine's output beats go to the host as raw bytes, `P` per beat, lane 0 first, in
//! the engine's order, as soon as they come out: a frame of `Ho·Wo·M` outputs is exactly
//! `Ho·Wo·M` bytes (the host knows the layer it loaded). A response is two bytes and is sent
//! between output beats, never inside one, so read the status when no outputs are due (after
//! a frame's outputs) to keep the two apart.
//!
//! Flags ([`flag`]): bit 0 BUSY (engine running a frame or outputs in flight), 1
//! ENGINE_ERROR (a config write was refused; clear it with the engine's clear-error write),
//! 2 LAST_ERROR (input `tlast` disagreed with the frame geometry), 3 BAD_OPCODE, 4
//! RX_OVERFLOW (a received byte was lost), 5 RX_FRAME_ERROR (a frame with a low stop bit was
//! dropped). Bits 3–5 are the bridge's and are cleared by the read that reports them.
//!
//! A layer is: its `'W'` writes (the engine's program, START last), then one `'P'` command
//! with the frame's `H·W·M/P` beats, then the outputs arrive. One `'P'` per frame: `tlast`
//! marks the command's last beat and the engine checks it against the geometry.
//!
//! **Nothing is lost.** Received bytes wait in a 256-byte FIFO while the bridge waits for
//! the engine (`tready` low), the engine holds its outputs while the transmitter is busy,
//! and the bridge takes an output beat only when it can send it. The host may send at the
//! full line rate: a depthwise layer has no more output bytes than input bytes and the
//! transmitter runs at the receiver's baud, so the receive FIFO does not fill; if a byte is
//! ever lost anyway (a host faster than the baud), RX_OVERFLOW says so — never silently.
//! After a bad opcode the bytes that follow are read as new commands: send READ-STATUS and
//! resynchronize (press the button to abandon a frame).

mod bridge;
mod top;
mod uart_rx;
mod uart_tx;

pub use bridge::{flag, ByteBridge, OP_PIXELS, OP_STATUS, OP_WRITE, RESP_BAD_OPCODE, RESP_STATUS};
pub use top::{BoardIo, BoardTop, RX_FIFO_ADDR_BITS};
pub use uart_rx::UartRx;
pub use uart_tx::UartTx;

/// The bytes of a WRITE command.
pub fn write_command(addr: u32, data: u32) -> Vec<u8> {
    let mut v = vec![OP_WRITE];
    v.extend_from_slice(&addr.to_le_bytes());
    v.extend_from_slice(&data.to_le_bytes());
    v
}

/// The bytes of a PIXELS command carrying `bytes` (`P` per beat, lane 0 first). Errors when
/// `bytes.len()` is not a multiple of `lanes` or the beat count does not fit 32 bits.
pub fn pixels_command(lanes: usize, bytes: &[u8]) -> Result<Vec<u8>, String> {
    if lanes == 0 || bytes.len() % lanes != 0 {
        return Err(format!(
            "{} pixel bytes are not whole beats of {lanes} lanes",
            bytes.len()
        ));
    }
    let beats = u32::try_from(bytes.len() / lanes)
        .map_err(|_| "more than 2^32 beats in one command".to_string())?;
    let mut v = vec![OP_PIXELS];
    v.extend_from_slice(&beats.to_le_bytes());
    v.extend_from_slice(bytes);
    Ok(v)
}

/// Host-side and simulation helpers shared by the tests of this module.
#[cfg(test)]
pub(crate) mod testbench {
    use rust_hdl::prelude::*;

    /// One clock cycle of a block driven by hand: settle the inputs already set, evaluate
    /// `sample` before the edge, clock, settle.
    pub fn tick<B: Block, T>(
        uut: &mut B,
        clock: fn(&mut B) -> &mut Signal<In, Clock>,
        sample: impl Fn(&B) -> T,
    ) -> T {
        assert!(simulate(uut, 100), "combinational logic did not settle");
        let v = sample(uut);
        clock(uut).next = Clock::from(true);
        assert!(simulate(uut, 100));
        clock(uut).next = Clock::from(false);
        assert!(simulate(uut, 100));
        v
    }

    /// The ten line levels of a byte's 8N1 frame.
    pub fn frame_bits(b: u8) -> [bool; 10] {
        let mut f = [true; 10];
        f[0] = false;
        for (k, bit) in f[1..9].iter_mut().enumerate() {
            *bit = (b >> k) & 1 == 1;
        }
        f
    }

    /// Decodes a line sampled once per clock (`divisor` cycles per bit): each falling edge
    /// starts a frame, bits read at their centres; panics on a low stop bit.
    pub fn line_bytes(line: &[bool], divisor: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 1;
        while i < line.len() {
            if line[i - 1] && !line[i] {
                let at = |k: usize| {
                    line.get(i + k * divisor + divisor / 2)
                        .copied()
                        .unwrap_or(true)
                };
                assert!(at(9), "low stop bit of the frame at {i}");
                out.push((0..8).fold(0u8, |a, k| a | ((at(1 + k) as u8) << k)));
                i += 10 * divisor - divisor / 2;
            } else {
                i += 1;
            }
        }
        out
    }
}
