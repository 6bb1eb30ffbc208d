//! Uploaded files: what they are (from their bytes, never their names), the size of the
//! pictures Hearth shows, their thumbnails, and a name safe to show and save.
//!
//! Everything here is blocking and keeps no state; the app runs it under `spawn_blocking`.
//! Pictures are decoded under the limits below, checked from the header before a pixel is
//! allocated, because a few hundred bytes of PNG can declare a picture that needs gigabytes.

mod names;
mod probe;
mod sniff;
mod thumb;
mod walk;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;

use std::fmt;

pub use names::safe_name;
pub use probe::{ImageInfo, probe};
pub use sniff::{Kind, Sniffed, sniff};
pub use thumb::{Thumb, square, thumbnail};

/// The longest side decoded, in pixels. WebP cannot go past 16,383 and no camera sensor does;
/// a picture beyond it is a stitched panorama or an attack, and its thumbnail a sliver.
pub const MAX_SIDE: u32 = 16_384;

/// The most pixels decoded: 50 megapixels takes 48 MP phone photos (8000 × 6000) and the usual
/// 50 MP ones (8160 × 6120), and holds one decoded picture to 200 MB even with an alpha channel.
pub const MAX_PIXELS: u64 = 50_000_000;

/// The most a decoder may allocate for one picture (`image::Limits::max_alloc`): the decoded
/// buffer counts against it, so 16-bit PNGs past about 33 megapixels are refused too.
pub const MAX_ALLOC: u64 = 256 * 1024 * 1024;

/// How many bytes of a file `sniff` wants; fewer work, they just recognise less.
pub const SNIFF_LEN: usize = 512;

pub type Result<T> = std::result::Result<T, MediaError>;

/// What can go wrong reading an upload. `NotAnImage`, `TooLarge` and `Damaged` are the
/// uploader's (422, 413, 422); `Io` and `Encode` are the server's (500, cause logged).
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The file is not a JPEG, PNG, GIF or WebP (by its content).
    #[error("not a picture Hearth can show (JPEG, PNG, GIF or WebP)")]
    NotAnImage,
    /// The picture declares a size over one of the limits.
    #[error("the picture is {width} × {height} pixels, over the limit of {limit}")]
    TooLarge {
        width: u32,
        height: u32,
        limit: Limit,
    },
    /// The picture's bytes are broken: truncated, a bad checksum, an invalid header.
    #[error("the picture is damaged or uses a feature Hearth cannot read")]
    Damaged(#[source] ::image::ImageError),
    /// The file could not be read.
    #[error("cannot read the file")]
    Io(#[from] std::io::Error),
    /// The thumbnail could not be encoded.
    #[error("cannot encode the thumbnail")]
    Encode(#[source] ::image::ImageError),
}

/// Which limit a picture went over, worded for the error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Side,
    Pixels,
    Memory,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Side => write!(f, "{MAX_SIDE} pixels a side"),
            Limit::Pixels => write!(f, "{} megapixels", MAX_PIXELS / 1_000_000),
            Limit::Memory => write!(f, "{} MiB decoded", MAX_ALLOC / (1024 * 1024)),
        }
    }
}

/// Refuses a declared size over the side or pixel limit.
fn check_size(width: u32, height: u32) -> Result<()> {
    let limit = if width > MAX_SIDE || height > MAX_SIDE {
        Limit::Side
    } else if u64::from(width) * u64::from(height) > MAX_PIXELS {
        Limit::Pixels
    } else {
        return Ok(());
    };
    Err(MediaError::TooLarge {
        width,
        height,
        limit,
    })
}

/// The limits handed to the `image` decoders, as a second line behind `check_size`.
fn decoder_limits() -> ::image::Limits {
    let mut limits = ::image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    limits
}
