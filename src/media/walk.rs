//! Walks of the four formats' block structure, reading lengths and skipping payloads, for what
//! the `image` decoders do not say or say unsafely: whether a GIF, WebP or PNG has more than
//! one frame, whether a JPEG reaches its end marker, and a WebP's EXIF chunk.
//!
//! Each walk starts at the reader's beginning and stops at the first thing it cannot parse,
//! answering from what it has seen: the decoders judge the damage.

use std::io::{self, BufRead, ErrorKind, Read, Seek, SeekFrom};

use image::ImageFormat;

/// A WebP EXIF chunk larger than this is ignored (orientation sits in its first bytes; JPEG
/// caps the whole of EXIF at 64 KiB).
const MAX_EXIF: u32 = 1024 * 1024;

/// Whether the picture has more than one frame.
pub(super) fn animated<R: BufRead + Seek>(format: ImageFormat, r: &mut R) -> io::Result<bool> {
    r.rewind()?;
    let mut frames = 0;
    let walked = match format {
        ImageFormat::Gif => gif_frames(r, &mut frames),
        ImageFormat::WebP => webp_chunks(r, |id, _, _| {
            frames += u32::from(id == *b"ANMF");
            Ok(frames < 2)
        }),
        ImageFormat::Png => apng_frames(r, &mut frames),
        _ => Ok(()),
    };
    ended(walked)?;
    Ok(frames > 1)
}

/// Whether a JPEG has an end-of-image marker after its first scan. `image` decodes a truncated
/// JPEG as a picture greyed out below the cut; Hearth refuses it instead.
pub(super) fn jpeg_complete<R: BufRead + Seek>(r: &mut R) -> io::Result<bool> {
    r.rewind()?;
    let mut complete = false;
    ended(jpeg_walk(r, &mut complete))?;
    Ok(complete)
}

/// The EXIF payload of a WebP, read here because `image-webp` allocates whatever size a chunk
/// header declares, even past the end of the file.
pub(super) fn webp_exif<R: BufRead + Seek>(r: &mut R) -> io::Result<Option<Vec<u8>>> {
    r.rewind()?;
    let mut exif = None;
    let walked = webp_chunks(r, |id, len, r| {
        if id != *b"EXIF" {
            return Ok(true);
        }
        if len <= MAX_EXIF {
            let mut data = Vec::new();
            r.take(u64::from(len)).read_to_end(&mut data)?;
            exif = Some(data);
        }
        Ok(false)
    });
    ended(walked)?;
    Ok(exif)
}

/// An early end of file is an answer, not an error.
fn ended(walked: io::Result<()>) -> io::Result<()> {
    match walked {
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => Ok(()),
        other => other,
    }
}

fn byte<R: Read>(r: &mut R) -> io::Result<u8> {
    let mut b = [0];
    r.read_exact(&mut b)?;
    Ok(b[0])
}

/// GIF: a header, an optional colour table, then extensions (`!`) and images (`,`), each
/// carrying length-prefixed sub-blocks, until the trailer.
fn gif_frames<R: BufRead + Seek>(r: &mut R, frames: &mut u32) -> io::Result<()> {
    let mut header = [0; 13];
    r.read_exact(&mut header)?;
    if !header.starts_with(b"GIF8") {
        return Ok(());
    }
    skip_colour_table(r, header[10])?;
    loop {
        match byte(r)? {
            b'!' => {
                byte(r)?;
                skip_sub_blocks(r)?;
            }
            b',' => {
                *frames += 1;
                if *frames > 1 {
                    return Ok(());
                }
                let mut descriptor = [0; 9];
                r.read_exact(&mut descriptor)?;
                skip_colour_table(r, descriptor[8])?;
                byte(r)?; // the LZW code size
                skip_sub_blocks(r)?;
            }
            _ => return Ok(()),
        }
    }
}

fn skip_colour_table<R: Seek>(r: &mut R, packed: u8) -> io::Result<()> {
    if packed & 0x80 != 0 {
        r.seek_relative(3 << ((packed & 7) + 1))?;
    }
    Ok(())
}

/// Sub-blocks are at most 255 bytes, so they are skipped in the buffer rather than by seeking.
fn skip_sub_blocks<R: BufRead>(r: &mut R) -> io::Result<()> {
    loop {
        let len = byte(r)?;
        if len == 0 {
            return Ok(());
        }
        let skipped = io::copy(&mut r.take(u64::from(len)), &mut io::sink())?;
        if skipped < u64::from(len) {
            return Err(ErrorKind::UnexpectedEof.into());
        }
    }
}

/// WebP: `RIFF`, a size, `WEBP`, then chunks of a fourcc, a little-endian length and a payload
/// padded to even. `visit` sees each chunk with the reader at its payload (which it may read)
/// and says whether to go on.
fn webp_chunks<R, F>(r: &mut R, mut visit: F) -> io::Result<()>
where
    R: BufRead + Seek,
    F: FnMut([u8; 4], u32, &mut R) -> io::Result<bool>,
{
    let mut header = [0; 12];
    r.read_exact(&mut header)?;
    if &header[..4] != b"RIFF" || &header[8..] != b"WEBP" {
        return Ok(());
    }
    loop {
        let mut chunk = [0; 8];
        r.read_exact(&mut chunk)?;
        let id = [chunk[0], chunk[1], chunk[2], chunk[3]];
        let len = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
        let start = r.stream_position()?;
        if !visit(id, len, r)? {
            return Ok(());
        }
        let next = start + u64::from(len) + u64::from(len & 1);
        r.seek(SeekFrom::Start(next))?;
    }
}

/// PNG: an animated PNG declares its frame count in an `acTL` chunk before the first `IDAT`.
fn apng_frames<R: BufRead + Seek>(r: &mut R, frames: &mut u32) -> io::Result<()> {
    let mut signature = [0; 8];
    r.read_exact(&mut signature)?;
    if signature != *b"\x89PNG\r\n\x1a\n" {
        return Ok(());
    }
    loop {
        let mut chunk = [0; 8];
        r.read_exact(&mut chunk)?;
        let len = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        match &chunk[4..] {
            b"acTL" => {
                let mut count = [0; 4];
                r.read_exact(&mut count)?;
                *frames = u32::from_be_bytes(count);
                return Ok(());
            }
            b"IDAT" => return Ok(()),
            _ => r.seek_relative(i64::from(len) + 4)?, // payload and CRC
        }
    }
}

/// JPEG: segments of a marker and a big-endian length up to the first scan (`SOS`); after it,
/// entropy-coded data where `FF` is followed by `00` or a restart marker, except for the
/// segments between progressive scans and the end marker `FF D9`.
fn jpeg_walk<R: BufRead + Seek>(r: &mut R, complete: &mut bool) -> io::Result<()> {
    let mut soi = [0; 2];
    r.read_exact(&mut soi)?;
    if soi != [0xFF, 0xD8] {
        return Ok(());
    }
    loop {
        if byte(r)? != 0xFF {
            return Ok(());
        }
        let mut marker = byte(r)?;
        while marker == 0xFF {
            marker = byte(r)?;
        }
        match marker {
            0x01 | 0xD0..=0xD7 => continue,
            0xD9 => return Ok(()), // an end before any scan: no picture
            _ => {}
        }
        let mut len = [0; 2];
        r.read_exact(&mut len)?;
        let len = u16::from_be_bytes(len);
        if len < 2 {
            return Ok(());
        }
        r.seek_relative(i64::from(len) - 2)?;
        if marker == 0xDA {
            break;
        }
    }
    // Most files end with the marker; a file with data after it (a phone's motion photo)
    // is searched for it.
    let scans = r.stream_position()?;
    let end = r.seek(SeekFrom::End(0))?;
    if end >= scans + 2 {
        r.seek(SeekFrom::End(-2))?;
        let mut last = [0; 2];
        r.read_exact(&mut last)?;
        if last == [0xFF, 0xD9] {
            *complete = true;
            return Ok(());
        }
    }
    r.seek(SeekFrom::Start(scans))?;
    *complete = find_end_marker(r)?;
    Ok(())
}

fn find_end_marker<R: BufRead>(r: &mut R) -> io::Result<bool> {
    let mut after_ff = false;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(false);
        }
        for &b in buf {
            if after_ff && b == 0xD9 {
                return Ok(true);
            }
            after_ff = b == 0xFF;
        }
        let len = buf.len();
        r.consume(len);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::media::fixtures;

    fn is_animated(format: ImageFormat, bytes: Vec<u8>) -> bool {
        animated(format, &mut Cursor::new(bytes)).unwrap()
    }

    #[test]
    fn a_gif_with_two_frames_is_animated_and_one_with_one_is_not() {
        assert!(!is_animated(ImageFormat::Gif, fixtures::gif(8, 8, 1)));
        assert!(is_animated(ImageFormat::Gif, fixtures::gif(8, 8, 2)));
        assert!(is_animated(ImageFormat::Gif, fixtures::gif(8, 8, 5)));
    }

    #[test]
    fn a_webp_is_animated_with_two_frames() {
        assert!(!is_animated(ImageFormat::WebP, fixtures::webp(8, 8)));
        assert!(!is_animated(
            ImageFormat::WebP,
            fixtures::webp_frames(8, 8, 1)
        ));
        assert!(is_animated(
            ImageFormat::WebP,
            fixtures::webp_frames(8, 8, 2)
        ));
    }

    #[test]
    fn an_apng_is_animated_and_a_png_is_not() {
        assert!(!is_animated(ImageFormat::Png, fixtures::png(8, 8)));
        assert!(is_animated(ImageFormat::Png, fixtures::apng(8, 8, 3)));
    }

    #[test]
    fn a_jpeg_is_complete_only_with_its_end_marker() {
        let jpeg = fixtures::jpeg(32, 32);
        assert!(jpeg_complete(&mut Cursor::new(&jpeg)).unwrap());
        let mut with_trailer = jpeg.clone();
        with_trailer.extend_from_slice(b"\0\0\0\x18ftypmp42 a motion photo's video");
        assert!(jpeg_complete(&mut Cursor::new(&with_trailer)).unwrap());
        for cut in [1, 20, jpeg.len() / 2, jpeg.len() - 2] {
            assert!(
                !jpeg_complete(&mut Cursor::new(&jpeg[..cut])).unwrap(),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn a_webp_exif_chunk_is_read_and_a_huge_one_ignored() {
        let exif = fixtures::exif_orientation(6, false);
        let webp = fixtures::webp_with_exif(8, 8, &exif);
        let read = webp_exif(&mut Cursor::new(&webp)).unwrap();
        assert_eq!(read.as_deref(), Some(&exif[..]));

        let mut lying = fixtures::webp(8, 8);
        lying.extend_from_slice(b"EXIF\xF0\xFF\xFF\xFFII*\0");
        assert_eq!(webp_exif(&mut Cursor::new(&lying)).unwrap(), None);
    }

    #[test]
    fn walks_of_garbage_answer_no() {
        for bytes in [
            vec![],
            vec![0xFF; 3],
            b"GIF89a\x01".to_vec(),
            fixtures::noise(300),
        ] {
            for format in [ImageFormat::Gif, ImageFormat::WebP, ImageFormat::Png] {
                assert!(!is_animated(format, bytes.clone()));
            }
            assert!(!jpeg_complete(&mut Cursor::new(&bytes)).unwrap());
            assert_eq!(webp_exif(&mut Cursor::new(&bytes)).unwrap(), None);
        }
    }
}
