//! Test pictures made in code: small encoded images, and crafted headers for the sizes and
//! metadata that would be slow or impossible to encode for real.

use std::path::{Path, PathBuf};

use image::codecs::gif::GifEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{ExtendedColorType, Frame, ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};

pub const RED: Rgb<u8> = Rgb([220, 20, 20]);
pub const BLUE: Rgb<u8> = Rgb([20, 20, 220]);

/// Red on the left half, blue on the right: a turn shows where the halves went.
pub fn halves(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, _| if x < width / 2 { RED } else { BLUE })
}

pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, 90)
        .encode_image(&halves(width, height))
        .unwrap();
    bytes
}

pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    let image = halves(width, height);
    PngEncoder::new(&mut bytes)
        .write_image(image.as_raw(), width, height, ExtendedColorType::Rgb8)
        .unwrap();
    bytes
}

/// An RGBA PNG whose alpha is 255 everywhere, or 0 in its top-left quarter.
pub fn png_rgba(width: u32, height: u32, transparent: bool) -> Vec<u8> {
    let image = RgbaImage::from_fn(width, height, |x, y| {
        let clear = transparent && x < width / 2 && y < height / 2;
        Rgba([30, 160, 60, if clear { 0 } else { 255 }])
    });
    let mut bytes = Vec::new();
    PngEncoder::new(&mut bytes)
        .write_image(image.as_raw(), width, height, ExtendedColorType::Rgba8)
        .unwrap();
    bytes
}

/// A GIF of `frames` frames: the first red, the others blue.
pub fn gif(width: u32, height: u32, frames: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut bytes);
        for i in 0..frames {
            let colour = if i == 0 { RED } else { BLUE };
            let [r, g, b] = colour.0;
            let image = RgbaImage::from_pixel(width, height, Rgba([r, g, b, 255]));
            encoder.encode_frame(Frame::new(image)).unwrap();
        }
    }
    bytes
}

fn webp_of(image: &RgbImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    WebPEncoder::new_lossless(&mut bytes)
        .encode(
            image.as_raw(),
            image.width(),
            image.height(),
            ExtendedColorType::Rgb8,
        )
        .unwrap();
    bytes
}

pub fn webp(width: u32, height: u32) -> Vec<u8> {
    webp_of(&halves(width, height))
}

/// The `VP8L` chunk (header included) of a plain lossless WebP.
fn vp8l_chunk(image: &RgbImage) -> Vec<u8> {
    let file = webp_of(image);
    assert_eq!(&file[12..16], b"VP8L", "a plain lossless WebP");
    file[12..].to_vec()
}

fn riff_chunk(id: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut chunk = id.to_vec();
    chunk.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    chunk.extend_from_slice(payload);
    if payload.len() % 2 == 1 {
        chunk.push(0);
    }
    chunk
}

fn riff_webp(chunks: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = chunks.concat();
    let mut file = b"RIFF".to_vec();
    file.extend_from_slice(&(4 + body.len() as u32).to_le_bytes());
    file.extend_from_slice(b"WEBP");
    file.extend_from_slice(&body);
    file
}

fn u24(value: u32) -> [u8; 3] {
    let [a, b, c, _] = value.to_le_bytes();
    [a, b, c]
}

fn vp8x(flags: u8, width: u32, height: u32) -> Vec<u8> {
    let mut payload = vec![flags, 0, 0, 0];
    payload.extend_from_slice(&u24(width - 1));
    payload.extend_from_slice(&u24(height - 1));
    riff_chunk(b"VP8X", &payload)
}

/// An extended WebP animation of `frames` full-canvas frames: the first red, the others blue.
pub fn webp_frames(width: u32, height: u32, frames: u32) -> Vec<u8> {
    let mut chunks = vec![vp8x(0x02, width, height), riff_chunk(b"ANIM", &[0; 6])];
    for i in 0..frames {
        let colour = if i == 0 { RED } else { BLUE };
        let mut payload = [0; 6].to_vec(); // x and y offsets
        payload.extend_from_slice(&u24(width - 1));
        payload.extend_from_slice(&u24(height - 1));
        payload.extend_from_slice(&u24(100)); // duration, ms
        payload.push(0);
        payload.extend_from_slice(&vp8l_chunk(&RgbImage::from_pixel(width, height, colour)));
        chunks.push(riff_chunk(b"ANMF", &payload));
    }
    riff_webp(&chunks)
}

/// An extended WebP with `exif` (a TIFF block) in its EXIF chunk.
pub fn webp_with_exif(width: u32, height: u32, exif: &[u8]) -> Vec<u8> {
    riff_webp(&[
        vp8x(0x08, width, height),
        vp8l_chunk(&halves(width, height)),
        riff_chunk(b"EXIF", exif),
    ])
}

/// A TIFF block (the EXIF payload) with an orientation and, if asked, a GPS position.
pub fn exif_orientation(orientation: u16, with_gps: bool) -> Vec<u8> {
    let entry = |tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        let mut e = tag.to_le_bytes().to_vec();
        e.extend_from_slice(&kind.to_le_bytes());
        e.extend_from_slice(&count.to_le_bytes());
        e.extend_from_slice(&value);
        e
    };
    const SHORT: u16 = 3;
    const LONG: u16 = 4;
    const ASCII: u16 = 2;
    const RATIONAL: u16 = 5;
    let mut tiff = b"II*\0\x08\0\0\0".to_vec();
    let entries: u16 = if with_gps { 2 } else { 1 };
    tiff.extend_from_slice(&entries.to_le_bytes());
    let [o0, o1] = orientation.to_le_bytes();
    tiff.extend(entry(0x0112, SHORT, 1, [o0, o1, 0, 0]));
    // IFD0 is 8 + 2 + 12 × 2 + 4 = 38 bytes in; the GPS IFD follows, then its rationals.
    let gps_at: u32 = 38;
    let data_at = gps_at + 2 + 12 * 4 + 4;
    if with_gps {
        tiff.extend(entry(0x8825, LONG, 1, gps_at.to_le_bytes()));
    }
    tiff.extend_from_slice(&0u32.to_le_bytes());
    if with_gps {
        assert_eq!(tiff.len() as u32, gps_at);
        tiff.extend_from_slice(&4u16.to_le_bytes());
        tiff.extend(entry(0x0001, ASCII, 2, *b"N\0\0\0"));
        tiff.extend(entry(0x0002, RATIONAL, 3, data_at.to_le_bytes()));
        tiff.extend(entry(0x0003, ASCII, 2, *b"E\0\0\0"));
        tiff.extend(entry(0x0004, RATIONAL, 3, (data_at + 24).to_le_bytes()));
        tiff.extend_from_slice(&0u32.to_le_bytes());
        // 48° 51' 29.58" N, 2° 17' 40.20" E
        for (num, den) in [
            (48u32, 1u32),
            (51, 1),
            (2958, 100),
            (2, 1),
            (17, 1),
            (4020, 100),
        ] {
            tiff.extend_from_slice(&num.to_le_bytes());
            tiff.extend_from_slice(&den.to_le_bytes());
        }
    }
    tiff
}

/// A JPEG of `halves` with an EXIF APP1 segment (orientation and GPS).
pub fn jpeg_with_exif(width: u32, height: u32, orientation: u16) -> Vec<u8> {
    with_exif(&jpeg(width, height), &exif_orientation(orientation, true))
}

/// `jpeg` with an EXIF APP1 segment holding `tiff` right after its start marker.
pub fn with_exif(jpeg: &[u8], tiff: &[u8]) -> Vec<u8> {
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&((2 + 6 + tiff.len()) as u16).to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(tiff);
    [&jpeg[..2], &app1, &jpeg[2..]].concat()
}

/// `jpeg` with its frame header claiming another size: the header is all `probe` reads.
pub fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = jpeg(16, 16);
    let sof = bytes.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    // FF C0, length (2), precision (1), then height and width.
    bytes[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    bytes
}

/// A PNG header declaring any size (colour type 2 is RGB, 6 RGBA), with a token IDAT: tens of
/// bytes standing for a picture of gigabytes.
pub fn png_claiming(width: u32, height: u32, colour_type: u8, bit_depth: u8) -> Vec<u8> {
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[bit_depth, colour_type, 0, 0, 0]);
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(png_chunk(b"IHDR", &ihdr));
    bytes.extend(png_chunk(b"IDAT", &[0x78, 0x9C, 0x03, 0x00]));
    bytes.extend(png_chunk(b"IEND", &[]));
    bytes
}

pub fn png_chunk(id: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(id);
    chunk.extend_from_slice(data);
    chunk.extend_from_slice(&crc32(&chunk[4..]).to_be_bytes());
    chunk
}

/// An APNG of `frames` frames, each the same `png` image.
pub fn apng(width: u32, height: u32, frames: u32) -> Vec<u8> {
    let still = png(width, height);
    let chunks = png_chunks(&still);
    let idat: Vec<u8> = chunks
        .iter()
        .filter(|(id, _)| id == b"IDAT")
        .flat_map(|(_, data)| data.clone())
        .collect();
    let fctl = |sequence: u32| {
        let mut data = sequence.to_be_bytes().to_vec();
        for v in [width, height, 0, 0] {
            data.extend_from_slice(&v.to_be_bytes());
        }
        data.extend_from_slice(&[0, 1, 0, 10, 0, 0]); // 1/10 s, no dispose, source blend
        png_chunk(b"fcTL", &data)
    };
    let mut actl = frames.to_be_bytes().to_vec();
    actl.extend_from_slice(&0u32.to_be_bytes());

    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(png_chunk(b"IHDR", &chunks[0].1));
    bytes.extend(png_chunk(b"acTL", &actl));
    bytes.extend(fctl(0));
    bytes.extend(png_chunk(b"IDAT", &idat));
    let mut sequence = 1;
    for _ in 1..frames {
        bytes.extend(fctl(sequence));
        let mut fdat = (sequence + 1).to_be_bytes().to_vec();
        fdat.extend_from_slice(&idat);
        bytes.extend(png_chunk(b"fdAT", &fdat));
        sequence += 2;
    }
    bytes.extend(png_chunk(b"IEND", &[]));
    bytes
}

fn png_chunks(png: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
    let mut chunks = Vec::new();
    let mut at = 8;
    while at + 12 <= png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        let id = png[at + 4..at + 8].try_into().unwrap();
        chunks.push((id, png[at + 8..at + 8 + len].to_vec()));
        at += 12 + len;
    }
    chunks
}

pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Bytes with no structure, the same every run.
pub fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Writes `bytes` to `name` in `dir`, for the functions that take a path.
pub fn file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}
