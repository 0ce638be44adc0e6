//! BoardTop: a depthwise engine behind a UART, for a board with a clock, a button, a
//! USB-serial bridge and two LEDs.
//!
//! `uart_rx` → [`UartRx`] → receive FIFO (256 bytes, one block RAM) → [`ByteBridge`] → engine
//! config port and input stream; engine output stream → bridge → [`UartTx`] → `uart_tx`.
//! The button (synchronized through two flops) resets the engine (its synchronous abort) and
//! the bridge while held. `led_busy` shows the engine's `busy`, `led_error` any error flag
//! (engine or bridge); the polarity of the button and the LEDs is a generation parameter
//! ([`BoardIo`]), so the same block serves boards with active-low and active-high parts.
//!
//! **Switching the wrapped engine** (the fused `DscEngine`): the engine is the one field
//! `engine`; another engine with the same port names (`cfg_valid`, `cfg_addr`, `cfg_data`,
//! `inp`, `out`, `busy`, `error`, `last_error`) replaces that field's type, the const
//! generics of this struct and the one constructor call in [`BoardTop::new`]; the bridge only
//! needs the beat width.

use super::{ByteBridge, UartRx, UartTx};
use crate::depthwise::DepthwiseEngine;
use crate::stream::{StreamFifo, StreamOut};
use dsc_model::engine_config::EngineConfig;
use dsc_model::ModelError;
use rust_hdl::prelude::*;

/// Address bits of the receive FIFO: 256 bytes (+ `tlast`) fit one SB_RAM40_4K / DP16KD.
pub const RX_FIFO_ADDR_BITS: usize = 8;

/// The board-facing generation parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoardIo {
    /// Clock cycles per UART bit: `round(f_clk / baud)`, at least 4.
    pub divisor: u16,
    /// The reset button reads 0 when pressed.
    pub button_active_low: bool,
    /// The LEDs light on 0.
    pub leds_active_low: bool,
}

impl BoardIo {
    /// The divisor for a clock and baud rate; errors when it is below 4 or above 65535.
    pub fn divisor_for(clock_hz: u64, baud: u64) -> Result<u16, String> {
        if baud == 0 {
            return Err("baud rate 0".into());
        }
        let d = (clock_hz + baud / 2) / baud;
        if !(4..=65535).contains(&d) {
            return Err(format!(
                "a {clock_hz} Hz clock at {baud} baud gives a divisor of {d}, outside 4..=65535"
            ));
        }
        Ok(d as u16)
    }
}

/// The board top around [`DepthwiseEngine`] (its const generics, see there).
#[derive(LogicBlock)]
pub struct BoardTop<
    const BEAT: usize,
    const WIN: usize,
    const LADDR: usize,
    const GADDR: usize,
    const CB: usize,
    const DK: usize,
    const S: usize,
    const PW32: usize,
    const PW6: usize,
    const FW: usize,
> {
    pub clock: Signal<In, Clock>,
    /// Reset button (polarity: [`BoardIo::button_active_low`]).
    pub button: Signal<In, Bit>,
    /// Serial line from the host.
    pub uart_rx: Signal<In, Bit>,
    /// Serial line to the host.
    pub uart_tx: Signal<Out, Bit>,
    pub led_busy: Signal<Out, Bit>,
    pub led_error: Signal<Out, Bit>,
    /// (Not `rx`/`tx`: a Verilog instance named like its module's port trips VARHIDDEN.)
    receiver: UartRx,
    transmitter: UartTx,
    rx_fifo: StreamFifo<8, 9, RX_FIFO_ADDR_BITS>,
    bridge: ByteBridge<BEAT>,
    engine: DepthwiseEngine<BEAT, WIN, LADDR, GADDR, CB, DK, S, PW32, PW6, FW>,
    button0: DFF<Bit>,
    button1: DFF<Bit>,
    reset: Signal<Local, Bit>,
    unused_fifo_count: Signal<Local, Bits<16>>,
    divisor: Constant<Bits<16>>,
    button_active_low: Constant<Bit>,
    leds_active_low: Constant<Bit>,
}

impl<
        const BEAT: usize,
        const WIN: usize,
        const LADDR: usize,
        const GADDR: usize,
        const CB: usize,
        const DK: usize,
        const S: usize,
        const PW32: usize,
        const PW6: usize,
        const FW: usize,
    > BoardTop<BEAT, WIN, LADDR, GADDR, CB, DK, S, PW32, PW6, FW>
{
    /// The top for engine config `cfg` and the board's `io`.
    pub fn new(cfg: &EngineConfig, io: BoardIo) -> Result<Self, ModelError> {
        if io.divisor < 4 {
            return Err(ModelError::InvalidParameter(format!(
                "BoardTop: UART divisor {} < 4",
                io.divisor
            )));
        }
        Ok(Self {
            clock: Default::default(),
            button: Default::default(),
            uart_rx: Default::default(),
            uart_tx: Default::default(),
            led_busy: Default::default(),
            led_error: Default::default(),
            receiver: Default::default(),
            transmitter: Default::default(),
            rx_fifo: StreamFifo::new()?,
            bridge: ByteBridge::new(cfg.lanes()).map_err(ModelError::InvalidParameter)?,
            engine: DepthwiseEngine::new(cfg)?,
            button0: Default::default(),
            button1: Default::default(),
            reset: Default::default(),
            unused_fifo_count: Default::default(),
            divisor: Constant::new((io.divisor as u64).into()),
            button_active_low: Constant::new(io.button_active_low),
            leds_active_low: Constant::new(io.leds_active_low),
        })
    }
}

impl<
        const BEAT: usize,
        const WIN: usize,
        const LADDR: usize,
        const GADDR: usize,
        const CB: usize,
        const DK: usize,
        const S: usize,
        const PW32: usize,
        const PW6: usize,
        const FW: usize,
    > Logic for BoardTop<BEAT, WIN, LADDR, GADDR, CB, DK, S, PW32, PW6, FW>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, button0, button1);
        clock!(self, clock, receiver, transmitter, rx_fifo, bridge, engine);
        // Button: two flops (it is asynchronous), then its polarity.
        self.button0.d.next = self.button.val() ^ self.button_active_low.val();
        self.button1.d.next = self.button0.q.val();
        self.reset.next = self.button1.q.val();
        // Receiver → FIFO → bridge.
        self.receiver.divisor.next = self.divisor.val();
        self.receiver.rx.next = self.uart_rx.val();
        self.rx_fifo.inp.tdata.next = self.receiver.data.val();
        self.rx_fifo.inp.tvalid.next = self.receiver.valid.val();
        self.rx_fifo.inp.tlast.next = false;
        self.unused_fifo_count.next = self.rx_fifo.count.val();
        self.bridge.rx_overflow.next = self.receiver.valid.val() && !self.rx_fifo.inp.tready.val();
        self.bridge.rx_frame_error.next = self.receiver.frame_error.val();
        self.bridge.reset.next = self.reset.val();
        StreamOut::<8>::join(&mut self.rx_fifo.out, &mut self.bridge.rx);
        // Bridge → transmitter.
        self.transmitter.divisor.next = self.divisor.val();
        StreamOut::<8>::join(&mut self.bridge.tx, &mut self.transmitter.inp);
        self.uart_tx.next = self.transmitter.tx.val();
        // Bridge ↔ engine.
        self.engine.reset.next = self.reset.val();
        self.engine.cfg_valid.next = self.bridge.cfg_valid.val();
        self.engine.cfg_addr.next = self.bridge.cfg_addr.val();
        self.engine.cfg_data.next = self.bridge.cfg_data.val();
        StreamOut::<BEAT>::join(&mut self.bridge.pixels, &mut self.engine.inp);
        StreamOut::<BEAT>::join(&mut self.engine.out, &mut self.bridge.results);
        self.bridge.engine_busy.next = self.engine.busy.val();
        self.bridge.engine_error.next = self.engine.error.val();
        self.bridge.engine_last_error.next = self.engine.last_error.val();
        // LEDs.
        self.led_busy.next = self.engine.busy.val() ^ self.leds_active_low.val();
        self.led_error.next =
            (self.engine.error.val() || self.engine.last_error.val() || self.bridge.error.val())
                ^ self.leds_active_low.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{lint, require_tool, verilog_of};

    /// The board top around the small engine (3×3, `P = 2`, 12×12×8) lints clean.
    #[test]
    fn verilog_lints() {
        let cfg = EngineConfig::new(3, 2, 1, 1, 12, 12, 8).unwrap();
        let io = BoardIo {
            divisor: 104,
            button_active_low: true,
            leds_active_low: true,
        };
        let mut top = BoardTop::<16, 144, 6, 2, 4, 3, 19, 64, 12, 17>::new(&cfg, io).unwrap();
        if require_tool("verilator") {
            lint(&verilog_of(&mut top), "top").unwrap();
        }
    }

    #[test]
    fn divisor_for_a_board_clock() {
        assert_eq!(BoardIo::divisor_for(12_000_000, 115_200), Ok(104));
        assert_eq!(BoardIo::divisor_for(25_000_000, 115_200), Ok(217));
        assert!(BoardIo::divisor_for(100_000, 115_200).is_err());
        assert!(BoardIo::divisor_for(12_000_000, 0).is_err());
        let cfg = EngineConfig::new(3, 2, 1, 1, 12, 12, 8).unwrap();
        let io = BoardIo {
            divisor: 3,
            button_active_low: true,
            leds_active_low: true,
        };
        assert!(BoardTop::<16, 144, 6, 2, 4, 3, 19, 64, 12, 17>::new(&cfg, io).is_err());
    }
}
