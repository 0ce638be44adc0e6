//! NHWC tensors: the layout TFLite uses for activations and (as OHWI / 1HWO) for weights.
//!
//! A [`Tensor`] owns a flat `Vec<T>` in row-major `[n, h, w, c]` order, so a pixel's channels
//! are contiguous — the layout the kernels stream over and the hardware receives.
//! Every dimension is at least 1: an empty tensor describes no layer.

use crate::error::{ModelError, Result};

/// Shape of a 4-D NHWC tensor: `[n, h, w, c]`.
pub type Shape = [usize; 4];

/// A dense 4-D tensor in NHWC order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tensor<T> {
    shape: Shape,
    data: Vec<T>,
}

/// Number of elements of `shape`, or an error when a dimension is 0 or the product overflows.
pub fn element_count(shape: Shape) -> Result<usize> {
    if shape.contains(&0) {
        return Err(ModelError::Shape(format!(
            "every dimension must be at least 1, got {shape:?}"
        )));
    }
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| ModelError::Shape(format!("shape {shape:?} has too many elements")))
}

impl<T: Copy> Tensor<T> {
    /// A tensor from a shape and its data in NHWC order; the length must match the shape.
    pub fn new(shape: Shape, data: Vec<T>) -> Result<Self> {
        let count = element_count(shape)?;
        if data.len() != count {
            return Err(ModelError::Shape(format!(
                "shape {shape:?} needs {count} elements, got {}",
                data.len()
            )));
        }
        Ok(Tensor { shape, data })
    }

    /// A tensor with every element set to `value`.
    pub fn filled(shape: Shape, value: T) -> Result<Self> {
        let count = element_count(shape)?;
        Ok(Tensor { shape, data: vec![value; count] })
    }

    /// A tensor whose element at `(n, y, x, c)` is `f(n, y, x, c)`.
    pub fn from_fn(shape: Shape, mut f: impl FnMut(usize, usize, usize, usize) -> T) -> Result<Self> {
        let count = element_count(shape)?;
        let mut data = Vec::with_capacity(count);
        for n in 0..shape[0] {
            for y in 0..shape[1] {
                for x in 0..shape[2] {
                    for c in 0..shape[3] {
                        data.push(f(n, y, x, c));
                    }
                }
            }
        }
        Ok(Tensor { shape, data })
    }

    /// The shape `[n, h, w, c]`.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// Batch size.
    pub fn n(&self) -> usize {
        self.shape[0]
    }

    /// Height.
    pub fn h(&self) -> usize {
        self.shape[1]
    }

    /// Width.
    pub fn w(&self) -> usize {
        self.shape[2]
    }

    /// Channels (the innermost, contiguous dimension).
    pub fn c(&self) -> usize {
        self.shape[3]
    }

    /// All elements in NHWC order.
    pub fn data(&self) -> &[T] {
        &self.data
    }

    /// All elements in NHWC order, mutable (the shape cannot change).
    pub fn data_mut(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// The flat data, consuming the tensor.
    pub fn into_data(self) -> Vec<T> {
        self.data
    }

    /// Flat index of `(n, y, x, c)`, or a shape error naming the index and the shape.
    pub fn index(&self, n: usize, y: usize, x: usize, c: usize) -> Result<usize> {
        let [sn, sh, sw, sc] = self.shape;
        if n >= sn || y >= sh || x >= sw || c >= sc {
            return Err(ModelError::Shape(format!(
                "index [{n}, {y}, {x}, {c}] is outside shape {:?}",
                self.shape
            )));
        }
        Ok(((n * sh + y) * sw + x) * sc + c)
    }

    /// Element at `(n, y, x, c)`.
    pub fn get(&self, n: usize, y: usize, x: usize, c: usize) -> Result<T> {
        Ok(self.data[self.index(n, y, x, c)?])
    }

    /// Sets the element at `(n, y, x, c)`.
    pub fn set(&mut self, n: usize, y: usize, x: usize, c: usize, value: T) -> Result<()> {
        let i = self.index(n, y, x, c)?;
        self.data[i] = value;
        Ok(())
    }

    /// The `c` contiguous channels of pixel `(n, y, x)`.
    pub fn pixel(&self, n: usize, y: usize, x: usize) -> Result<&[T]> {
        let i = self.index(n, y, x, 0)?;
        Ok(&self.data[i..i + self.shape[3]])
    }

    /// Errors unless the shape is exactly `expected`; `what` names the tensor in the message.
    pub fn expect_shape(&self, what: &str, expected: Shape) -> Result<()> {
        if self.shape != expected {
            return Err(ModelError::Shape(format!(
                "{what}: expected shape {expected:?}, got {:?}",
                self.shape
            )));
        }
        Ok(())
    }
}

impl<T: Copy + Default> Tensor<T> {
    /// A tensor of `T::default()` (zero for the integer and float types).
    pub fn zeros(shape: Shape) -> Result<Self> {
        Self::filled(shape, T::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_checks_the_length() {
        let t = Tensor::new([1, 2, 2, 3], vec![0i8; 12]).unwrap();
        assert_eq!(t.shape(), [1, 2, 2, 3]);
        let err = Tensor::new([1, 2, 2, 3], vec![0i8; 11]).unwrap_err();
        assert!(matches!(err, ModelError::Shape(ref m) if m.contains("12") && m.contains("11")));
    }

    #[test]
    fn zero_dimensions_are_rejected() {
        assert!(matches!(Tensor::<i8>::zeros([1, 0, 2, 3]), Err(ModelError::Shape(_))));
        assert!(matches!(Tensor::new([0, 1, 1, 1], Vec::<i32>::new()), Err(ModelError::Shape(_))));
    }

    #[test]
    fn overflowing_shape_is_rejected() {
        let huge = usize::MAX / 2;
        assert!(matches!(Tensor::<i8>::zeros([huge, huge, 1, 1]), Err(ModelError::Shape(_))));
    }

    #[test]
    fn layout_is_nhwc() {
        let shape = [2, 3, 4, 5];
        let t = Tensor::from_fn(shape, |n, y, x, c| (n * 1000 + y * 100 + x * 10 + c) as i32).unwrap();
        // Channels are contiguous, then x, then y, then n.
        assert_eq!(t.data()[0..5], [0, 1, 2, 3, 4]);
        assert_eq!(t.data()[5], 10);
        assert_eq!(t.data()[20], 100);
        assert_eq!(t.data()[60], 1000);
        assert_eq!(t.get(1, 2, 3, 4).unwrap(), 1234);
        assert_eq!(t.pixel(1, 2, 3).unwrap(), &[1230, 1231, 1232, 1233, 1234]);
    }

    #[test]
    fn get_and_set_are_bounds_checked() {
        let mut t = Tensor::<i8>::zeros([1, 2, 2, 2]).unwrap();
        t.set(0, 1, 1, 1, -128).unwrap();
        assert_eq!(t.get(0, 1, 1, 1).unwrap(), -128);
        assert!(matches!(t.get(0, 2, 0, 0), Err(ModelError::Shape(_))));
        assert!(matches!(t.set(0, 0, 0, 2, 1), Err(ModelError::Shape(_))));
        assert!(t.pixel(1, 0, 0).is_err());
    }

    #[test]
    fn expect_shape_names_both_shapes() {
        let t = Tensor::<i32>::zeros([1, 1, 1, 4]).unwrap();
        assert!(t.expect_shape("bias", [1, 1, 1, 4]).is_ok());
        let err = t.expect_shape("bias", [1, 1, 1, 5]).unwrap_err().to_string();
        assert!(err.contains("bias") && err.contains("[1, 1, 1, 5]") && err.contains("[1, 1, 1, 4]"));
    }
}
