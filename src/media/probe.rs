//! A picture's displayed size and whether it moves, read from its header under the limits,
//! and the checked decoder the thumbnails decode from.

use std::fs::File;
use std::io::{BufReader, ErrorKind, Read, Seek};
use std::path::Path;

use image::error::{DecodingError, ImageFormatHint, LimitErrorKind};
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader};

use super::{Limit, MediaError, Result, SNIFF_LEN, check_size, decoder_limits, sniff, walk};

/// What `probe` learns of a JPEG, PNG, GIF or WebP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    pub mime: &'static str,
    /// The size as shown, after the EXIF orientation (a portrait photo stored sideways is
    /// taller than wide here).
    pub width: u32,
    pub height: u32,
    /// A GIF, WebP or PNG with more than one frame.
    pub animated: bool,
}

/// Reads the picture at `path` as far as its header, without decoding pixels (a GIF is read
/// to its second frame, a JPEG checked for its end): `None` when the content is not one of
/// the four inline types, an error when it is damaged or over the limits.
pub fn probe(path: &Path) -> Result<Option<ImageInfo>> {
    Ok(open(path)?.map(|opened| opened.info))
}

/// A picture whose header passed the limits, ready to decode.
pub(super) struct Opened {
    pub info: ImageInfo,
    pub orientation: Orientation,
    decoder: Box<dyn ImageDecoder>,
    /// Where it was read from, and as what: a JPEG may be decoded again at a smaller scale.
    path: std::path::PathBuf,
    format: ImageFormat,
}

impl Opened {
    /// The pixels as stored, at least `width` × `height` (in the stored orientation) where the
    /// format can decode smaller than its full size (JPEG: 1/2, 1/4 or 1/8, in the IDCT), the
    /// full size otherwise.
    pub fn decode_at_least(self, width: u32, height: u32) -> Result<DynamicImage> {
        if self.format == ImageFormat::Jpeg
            && let Some(image) = jpeg_scaled(&self.path, width, height)
        {
            return Ok(image);
        }
        self.decode()
    }

    /// Decodes the pixels as stored (the first frame of an animation), within `MAX_ALLOC`.
    pub fn decode(self) -> Result<DynamicImage> {
        let (width, height) = self.decoder.dimensions();
        DynamicImage::from_decoder(self.decoder).map_err(|e| image_error(e, Some((width, height))))
    }
}

pub(super) fn open(path: &Path) -> Result<Option<Opened>> {
    let mut reader = BufReader::new(File::open(path)?);
    let mut head = Vec::with_capacity(SNIFF_LEN);
    (&mut reader)
        .take(SNIFF_LEN as u64)
        .read_to_end(&mut head)?;
    let sniffed = sniff(&head);
    let Some(format) = sniffed
        .inline
        .then(|| ImageFormat::from_mime_type(sniffed.mime))
        .flatten()
    else {
        return Ok(None);
    };

    let animated = walk::animated(format, &mut reader)?;
    if format == ImageFormat::Jpeg && !walk::jpeg_complete(&mut reader)? {
        return Err(damaged(format, "the file ends before the picture does"));
    }
    let webp_exif = match format {
        ImageFormat::WebP => walk::webp_exif(&mut reader)?,
        _ => None,
    };
    reader.rewind()?;

    // The side limits are left out here so that `check_size` words the refusal; the PNG
    // decoder takes `max_alloc` only when it is made.
    let mut image_reader = ImageReader::with_format(reader, format);
    let mut alloc_only = decoder_limits();
    alloc_only.max_image_width = None;
    alloc_only.max_image_height = None;
    image_reader.limits(alloc_only);
    let mut decoder = image_reader
        .into_decoder()
        .map_err(|e| image_error(e, None))?;

    let (width, height) = decoder.dimensions();
    check_size(width, height)?;
    if width == 0 || height == 0 {
        return Err(damaged(format, "the picture has no pixels"));
    }
    // As `ImageReader::decode` does: the decoded buffer is the first allocation counted.
    let mut limits = decoder_limits();
    let too_large = |limit| MediaError::TooLarge {
        width,
        height,
        limit,
    };
    limits
        .reserve(decoder.total_bytes())
        .map_err(|_| too_large(Limit::Memory))?;
    decoder
        .set_limits(limits)
        .map_err(|e| image_error(e, Some((width, height))))?;

    let orientation = match webp_exif {
        Some(exif) => Orientation::from_exif_chunk(&exif).unwrap_or(Orientation::NoTransforms),
        None if format == ImageFormat::WebP => Orientation::NoTransforms,
        None => decoder
            .orientation()
            .map_err(|e| image_error(e, Some((width, height))))?,
    };
    let (width, height) = if turns_sideways(orientation) {
        (height, width)
    } else {
        (width, height)
    };
    Ok(Some(Opened {
        info: ImageInfo {
            mime: sniffed.mime,
            width,
            height,
            animated,
        },
        orientation,
        decoder: Box::new(decoder),
        path: path.to_owned(),
        format,
    }))
}

/// A JPEG decoded at the smallest of its DCT scales that is still at least `width` ×
/// `height`; `None` (decode it the usual way) for pixel formats other than grey and RGB, or a
/// file this decoder cannot read. The header already passed the size limits.
fn jpeg_scaled(path: &Path, width: u32, height: u32) -> Option<DynamicImage> {
    let mut decoder = jpeg_decoder::Decoder::new(BufReader::new(File::open(path).ok()?));
    decoder.set_max_decoding_buffer_size(super::MAX_ALLOC as usize);
    decoder.read_info().ok()?;
    let clamp = |n: u32| n.clamp(1, u32::from(u16::MAX)) as u16;
    let (w, h) = decoder.scale(clamp(width), clamp(height)).ok()?;
    let pixels = decoder.decode().ok()?;
    let (w, h) = (u32::from(w), u32::from(h));
    match decoder.info()?.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => {
            image::RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8)
        }
        jpeg_decoder::PixelFormat::L8 => {
            image::GrayImage::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8)
        }
        _ => None,
    }
}

fn turns_sideways(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

fn damaged(format: ImageFormat, why: &'static str) -> MediaError {
    MediaError::Damaged(ImageError::Decoding(DecodingError::new(
        ImageFormatHint::Exact(format),
        why,
    )))
}

/// Sorts the decoders' errors into the uploader's and the server's. A limit met before the
/// size is known (a PNG's huge metadata chunk) is damage: there is no size to name.
fn image_error(error: ImageError, size: Option<(u32, u32)>) -> MediaError {
    match (error, size) {
        (ImageError::Limits(limit), Some((width, height))) => MediaError::TooLarge {
            width,
            height,
            limit: match limit.kind() {
                LimitErrorKind::DimensionError => Limit::Side,
                _ => Limit::Memory,
            },
        },
        (ImageError::IoError(io), _) if io.kind() != ErrorKind::UnexpectedEof => MediaError::Io(io),
        (other, _) => MediaError::Damaged(other),
    }
}
