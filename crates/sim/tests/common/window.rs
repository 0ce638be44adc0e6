//! Driving dsc-hw's SlidingWindow on any simulator: layer inputs, the `start` pulse, the
//! input stream of an image and the golden windows (`dsc_model::window::extract_windows`)
//! packed as the hardware emits them.

use dsc_hw::window::SlidingWindow;
use dsc_model::window::{extract_windows, WindowLayer};
use dsc_model::Tensor;
use dsc_sim::{Beat, Dut, HdlDut};
use rand::Rng;

/// int8 values packed little-endian into 32-bit words (first value in bits 0..8).
pub fn pack_words(bytes: &[i8]) -> Vec<u32> {
    bytes
        .chunks(4)
        .map(|c| c.iter().enumerate().fold(0u32, |w, (i, &b)| w | (b as u8 as u32) << (8 * i)))
        .collect()
}

/// The input stream of `x`: pixels in raster order, `G` beats per pixel, `tlast` on the last.
pub fn input_beats(layer: &WindowLayer, x: &Tensor<i8>) -> Vec<Beat> {
    let p = layer.lanes;
    let mut beats = vec![];
    for y in 0..layer.height {
        for xx in 0..layer.width {
            let px = x.pixel(0, y, xx).unwrap();
            for g in 0..layer.groups {
                beats.push(Beat::from_words(&pack_words(&px[g * p..(g + 1) * p]), false));
            }
        }
    }
    let n = beats.len();
    beats[n - 1].last = true;
    beats
}

/// The golden windows as output beats, `tlast` on the last.
pub fn golden_beats(layer: &WindowLayer, x: &Tensor<i8>, zp: i8) -> Vec<Beat> {
    let w = extract_windows(layer, x, zp).unwrap();
    let n = w.len();
    w.iter()
        .enumerate()
        .map(|(i, w)| Beat::from_words(&pack_words(&w.taps), i + 1 == n))
        .collect()
}

/// Random int8 image with extra −128 and 127.
pub fn random_image(rng: &mut impl Rng, h: usize, w: usize, m: usize) -> Tensor<i8> {
    Tensor::from_fn([1, h, w, m], |_, _, _, _| match rng.gen_range(0..6) {
        0 => -128,
        1 => 127,
        _ => rng.gen(),
    })
    .unwrap()
}

/// Sets the layer inputs and runs the one-cycle `start` pulse. Returns the DUT cycle that is
/// "cycle 0 after start" in the block's timing documentation.
pub fn start_frame(dut: &mut impl Dut, layer: &WindowLayer, zp: i8) -> u64 {
    let mut set = |name: &str, v: u128| {
        let id = dut.port_id(name).unwrap();
        dut.set_id(id, v).unwrap();
    };
    set("height", layer.height as u128);
    set("width", layer.width as u128);
    set("last_group", (layer.groups - 1) as u128);
    set("stride2", (layer.stride == 2) as u128);
    set("in_zp", zp as u8 as u128);
    set("start", 1);
    set("inp_tvalid", 0);
    set("out_tready", 0);
    dut.tick().unwrap();
    let id = dut.port_id("start").unwrap();
    dut.set_id(id, 0).unwrap();
    dut.cycles()
}

/// A SlidingWindow in rust-hdl's simulator behind the `Dut` interface.
pub fn window_hdl<
    const BEAT: usize,
    const WIN: usize,
    const LADDR: usize,
    const GADDR: usize,
    const CB: usize,
    const DK: usize,
>(
    uut: SlidingWindow<BEAT, WIN, LADDR, GADDR, CB, DK>,
) -> HdlDut<SlidingWindow<BEAT, WIN, LADDR, GADDR, CB, DK>> {
    HdlDut::clocked(uut, |b| &mut b.clock)
        .input("start", 1, |b, v| b.start.next = v != 0, |b| b.start.val() as u128)
        .input_bits("height", |b| &b.height, |b| &mut b.height)
        .input_bits("width", |b| &b.width, |b| &mut b.width)
        .input_bits("last_group", |b| &b.last_group, |b| &mut b.last_group)
        .input("stride2", 1, |b, v| b.stride2.next = v != 0, |b| b.stride2.val() as u128)
        .input_bits("in_zp", |b| &b.in_zp, |b| &mut b.in_zp)
        .stream_in("inp", |b| &b.inp, |b| &mut b.inp)
        .stream_out("out", |b| &b.out, |b| &mut b.out)
        .output("busy", 1, |b| b.busy.val() as u128)
        .output("last_error", 1, |b| b.last_error.val() as u128)
}

/// The input stream of `x` for a port of `q` pixels per beat: per row `ceil(W/q)` words of
/// `G` beats, beat = the group's `P` channels of `q` adjacent pixels (pixel `k` at bits
/// `8Pk..`); the pixels past the row's end in its last word are filled with `fill`.
pub fn wide_input_beats(layer: &WindowLayer, x: &Tensor<i8>, q: usize, fill: i8) -> Vec<Beat> {
    let p = layer.lanes;
    let mut beats = vec![];
    for y in 0..layer.height {
        for word in 0..layer.width.div_ceil(q) {
            for g in 0..layer.groups {
                let mut bytes = vec![];
                for k in 0..q {
                    let xx = word * q + k;
                    if xx < layer.width {
                        bytes.extend_from_slice(&x.pixel(0, y, xx).unwrap()[g * p..(g + 1) * p]);
                    } else {
                        bytes.extend(std::iter::repeat(fill).take(p));
                    }
                }
                beats.push(Beat::from_words(&pack_words(&bytes), false));
            }
        }
    }
    let n = beats.len();
    beats[n - 1].last = true;
    beats
}
