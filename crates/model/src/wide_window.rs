//! The wide window generator (`dsc_hw::window::WideWindow`, `Q > 1` input pixels per beat):
//! its storage geometry and its exact cycle model.
//!
//! **Input.** A beat carries the `P` channels of group `g` of `Q` horizontally adjacent pixels
//! (pixel `q` at bits `q·8P..`, lane `l` at `+8l`); beats in the order (row, word, group), a row
//! being `WB = ceil(W/Q)` words. When `Q` does not divide `W` the last word of each row carries
//! `W mod Q` pixels and the rest of the beat is ignored (any value).
//!
//! **Storage.** `NB = Dk + 2` line buffers in a ring (row `r` in buffer `r mod NB`), each two
//! banks of `Q`-pixel words: word `w` of a row is stored as `u = w + 1` in bank `u mod 2` at
//! `(u / 2)·G + g`, so two adjacent words are always in different banks and one cycle reads
//! both: the `2Q` pixels from which a window row of `Dk ≤ Q + 1` taps is cut at any offset.
//!
//! **Timing.** Two counters. The *writer* takes one beat per cycle while the row it writes has
//! a free buffer: row `wrow < rel + NB`, where `rel` is the first row the reader still needs.
//! The *reader* builds one window per cycle from the `Dk` buffers of its output row, stepping
//! `stride` columns; a window waits until the rows it needs are written, the last of them up to
//! the beat of its rightmost column — seen one cycle late (a write must land before the read
//! that uses it) — and rows are released at the end of each output row. The
//! cycle of the last window is found by stepping the two counters ([`last_window_cycle`]): an
//! exact model, not an estimate, checked against Verilator.

use crate::window::{bits_for, WindowLayer};

/// Line buffers of the wide generator: the `Dk` rows of an output row, and two rows the writer
/// fills meanwhile (a stride-2 output row consumes two input rows).
pub fn line_buffers(dk: usize) -> usize {
    dk + 2
}

/// Words (beats per group) of one input row: `ceil(W / Q)`.
pub fn row_words(width: usize, q: usize) -> usize {
    width.div_ceil(q)
}

/// Input beats of a layer: `H · ceil(W / Q) · G`.
pub fn input_beats(layer: &WindowLayer, q: usize) -> usize {
    layer.height * row_words(layer.width, q) * layer.groups
}

/// Words one bank must hold for every layer with `W ≤ max_width`, `G ≤ max_groups` and
/// `W · G ≤ line_depth` (the narrow generator's limits, which layers are checked against):
/// the largest `(ceil(W/Q)/2 + 1) · G`.
pub fn bank_depth(max_width: usize, max_groups: usize, line_depth: usize, q: usize) -> usize {
    (1..=max_width)
        .map(|w| (row_words(w, q) / 2 + 1) * max_groups.min(line_depth / w))
        .max()
        .unwrap_or(1)
}

/// Address bits of a bank.
pub fn bank_addr_bits(max_width: usize, max_groups: usize, line_depth: usize, q: usize) -> usize {
    bits_for(bank_depth(max_width, max_groups, line_depth, q) - 1)
}

/// The cycle in which the reader takes (emits) the layer's last window, counted from the
/// cycle the first input beat is taken (cycle 0), with an always-valid input and an
/// always-ready output. Steps, per cycle, the registered state the hardware steps:
///
/// * writer: takes a beat when `wrow < H` and `wrow < rel + NB`, `rel = max(top − Dk, 0)`;
///   `wrow` counts the rows completely written;
/// * reader: emits window `(oy, ox, g)` when `seen ≥ min(top, H)`, or `seen + 1 = min(top, H)`
///   and `seen_beats > ((ox·s + Dk − 1 − pad_left) / Q)·G + g` (the last row needed is written
///   up to the beat of the window's rightmost column) — `seen`, `seen_beats` are `wrow` and the
///   beats written in row `wrow`, one cycle late — with `top = oy·s − pad_top + Dk` the rows
///   output row `oy` needs; after the `Wo·G` windows of a row, `top += s`.
///
/// With these rules the engine stays within a few cycles of
/// [`crate::depthwise::cycle_bound_wide`] (18 cycles, pipeline included, on MobileNet-v1's
/// depthwise layers at `Q = 2` and `4`).
pub fn last_window_cycle(layer: &WindowLayer, q: usize) -> u64 {
    let (h, g, s, dk) = (layer.height, layer.groups, layer.stride, layer.dk);
    let nb = line_buffers(dk);
    let row_beats = row_words(layer.width, q) * g;
    let row_windows = layer.cols.out * g;
    let (ho, pad_top, pad_left) = (layer.rows.out, layer.rows.before, layer.cols.before);
    let (mut wrow, mut wbeat, mut seen, mut seen_beats) = (0usize, 0usize, 0usize, 0usize);
    let (mut top, mut orow, mut opos) = (dk - pad_top, 0usize, 0usize);
    let mut cycle = 0u64;
    loop {
        let write = wrow < h && wrow < top.saturating_sub(dk) + nb;
        let need = top.min(h);
        let (ox, gg) = (opos / g, opos % g);
        let need_beat = ((ox * s + dk - 1 - pad_left) / q) * g + gg;
        let read = seen >= need || (seen + 1 == need && seen_beats > need_beat);
        let (seen_next, seen_beats_next) = (wrow, wbeat);
        if write {
            wbeat += 1;
            if wbeat == row_beats {
                wbeat = 0;
                wrow += 1;
            }
        }
        if read {
            if orow + 1 == ho && opos + 1 == row_windows {
                return cycle;
            }
            opos += 1;
            if opos == row_windows {
                opos = 0;
                orow += 1;
                top += s;
            }
        }
        seen = seen_next;
        seen_beats = seen_beats_next;
        cycle += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::WindowConfig;

    fn layer(h: usize, w: usize, m: usize, s: usize) -> WindowLayer {
        WindowConfig::new(3, 64, 64, 2, 64).unwrap().layer(h, w, m, s).unwrap()
    }

    #[test]
    fn geometry() {
        assert_eq!(line_buffers(3), 5);
        assert_eq!(row_words(14, 4), 4);
        assert_eq!(row_words(16, 4), 4);
        assert_eq!(input_beats(&layer(7, 7, 4, 1), 2), 7 * 4 * 2);
        // W = 64, G = 32: u = 1..=16, bank addresses up to 8·32 + 31.
        assert_eq!(bank_depth(64, 32, 64 * 32, 4), 9 * 32);
        assert_eq!(bank_addr_bits(64, 32, 64 * 32, 4), 9);
        // A shrunk line depth bounds W·G.
        // A shrunk line depth bounds W·G: the widest use is then W ≤ 2 with 32 groups.
        assert_eq!(bank_depth(64, 32, 64, 4), 32);
    }

    #[test]
    fn stride_one_reader_bound() {
        // Q = 4, 8×8, G = 1: window (0, 0) needs row 1 up to column 1, beat 0 of row 1 (two
        // beats a row, taken in cycles 0, 1, 2): `seen_beats = 1` from cycle 4.
        let l = layer(8, 8, 2, 1);
        // The reader then emits 64 windows in consecutive cycles (the writer is 4× faster).
        assert_eq!(last_window_cycle(&l, 4), 4 + 63);
    }

    #[test]
    fn stride_two_balanced_at_q4() {
        // 16×16, stride 2, G = 1, Q = 4: rows of 4 beats, output rows of 8 windows.
        let l = layer(16, 16, 2, 2);
        let c = last_window_cycle(&l, 4);
        // At least the input (64 beats) and the 64 windows; within a few cycles per row.
        assert!(c >= 64 && c < 64 + 3 * 4 + 8 * 3, "{c}");
    }

    #[test]
    fn mobilenet_layers_are_within_two_cycles_of_the_bound() {
        let wc = WindowConfig::new(3, 112, 112, 8, 1024).unwrap();
        for (hw, m, s) in [(112, 32, 1), (112, 64, 2), (56, 128, 1), (56, 128, 2), (28, 256, 1), (28, 256, 2), (14, 512, 1), (14, 512, 2), (7, 1024, 1)] {
            let l = wc.layer(hw, hw, m, s).unwrap();
            for q in [2, 4] {
                let (c, b) = (last_window_cycle(&l, q) + 1, crate::depthwise::cycle_bound_wide(&l, q));
                assert!(c >= b && c <= b + 2, "{hw}²×{m} s{s} Q = {q}: {c} vs bound {b}");
            }
        }
    }

    #[test]
    fn every_small_layer_terminates() {
        for q in [2, 4] {
            for s in [1, 2] {
                for h in 1..9 {
                    for w in 1..9 {
                        let l = layer(h, w, 4, s);
                        let c = last_window_cycle(&l, q);
                        assert!(c as usize + 1 >= l.window_count());
                    }
                }
            }
        }
    }
}
