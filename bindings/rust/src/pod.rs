//! [`Pod`]: the element types the typed kinds carry.

/// A plain-old-data element: copied byte for byte into and out of shared memory, read by
/// processes in other languages.
///
/// # Safety
///
/// Implement it only for types where
/// - every bit pattern of `size_of::<T>()` bytes is a valid value (no `bool`, `char`,
///   enums, references, `NonZero*`, ...): a peer process may write any bytes;
/// - the layout is fixed and matches the peer's: `#[repr(C)]` (or `#[repr(transparent)]`),
///   preferably without padding bytes (padding travels as whatever it holds);
/// - no pointers or handles meant to be dereferenced (another process's addresses).
///
/// The typed kinds also need `size_of::<T>()` to be a multiple of 8 from 8 to 256 and
/// `align_of::<T>() <= 8` (checked when a segment is created and an endpoint attached):
///
/// ```
/// #[repr(C)]
/// #[derive(Clone, Copy)]
/// struct Tick { seq: u64, price: f64 }
/// unsafe impl ringwire::Pod for Tick {}
/// ```
pub unsafe trait Pod: Copy + 'static {
    /// The C++ peer's `ringwire::shm::type_tag<T>::value`, recorded at create and checked at
    /// attach; 0 (the default): not checked at attach, recorded as 0 at create.
    const TYPE_TAG: u64 = 0;
}

macro_rules! pod {
    ($($t:ty),*) => {$( unsafe impl Pod for $t {} )*};
}
pod!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64);

unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}
