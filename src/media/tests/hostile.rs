//! Hostile and broken uploads: bombs declared in a header, sizes over the limits, damaged
//! bytes, and content that only claims to be a picture.

use super::{Uploads, info};
use crate::media::fixtures;
use crate::media::{Limit, MediaError, probe, square, thumbnail};

#[test]
fn probe_passes_over_what_is_not_a_picture() {
    let up = Uploads::new();
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>";
    for (name, bytes) in [
        ("empty.png", &b""[..]),
        ("noise.jpg", &fixtures::noise(4096)),
        ("drawing.png", svg),
        ("page.gif", b"<html><body>not a gif</body></html>"),
    ] {
        let path = up.put(name, bytes);
        assert!(probe(&path).unwrap().is_none(), "{name}");
        assert!(
            matches!(thumbnail(&path, 100), Err(MediaError::NotAnImage)),
            "{name}"
        );
    }
}

#[test]
fn a_decompression_bomb_is_refused_from_its_header() {
    let up = Uploads::new();
    let bomb = up.put("bomb.png", &fixtures::png_claiming(20_000, 20_000, 2, 8));
    let err = probe(&bomb).unwrap_err();
    assert!(
        matches!(
            err,
            MediaError::TooLarge {
                width: 20_000,
                height: 20_000,
                limit: Limit::Side
            }
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("20000 × 20000") && message.contains("16384"),
        "{message}"
    );
    let err = thumbnail(&bomb, 400).unwrap_err();
    assert!(
        matches!(
            err,
            MediaError::TooLarge {
                limit: Limit::Side,
                ..
            }
        ),
        "{err:?}"
    );

    let jpeg_bomb = up.put("bomb.jpg", &fixtures::jpeg_claiming(20_000, 20_000));
    let err = square(&jpeg_bomb, 128).unwrap_err();
    assert!(
        matches!(
            err,
            MediaError::TooLarge {
                limit: Limit::Side,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn too_many_pixels_are_refused_even_within_the_side_limit() {
    let up = Uploads::new();
    let wide = up.put("wide.png", &fixtures::png_claiming(10_000, 6_000, 2, 8));
    let err = probe(&wide).unwrap_err();
    assert!(
        matches!(
            err,
            MediaError::TooLarge {
                limit: Limit::Pixels,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("50 megapixels"), "{err}");
}

#[test]
fn max_alloc_refuses_a_picture_within_the_size_limits() {
    let up = Uploads::new();
    // 16,000 × 3,000 is 48 MP, under both size limits; as 8-bit RGBA it decodes to 192 MB,
    // as 16-bit RGBA to 384 MB, over the 256 MiB allowed.
    let eight_bit = up.put("ok.png", &fixtures::png_claiming(16_000, 3_000, 6, 8));
    assert_eq!(
        probe(&eight_bit).unwrap(),
        info("image/png", 16_000, 3_000, false)
    );
    let sixteen_bit = up.put("deep.png", &fixtures::png_claiming(16_000, 3_000, 6, 16));
    for result in [
        probe(&sixteen_bit).map(|_| ()),
        thumbnail(&sixteen_bit, 400).map(|_| ()),
    ] {
        let err = result.unwrap_err();
        assert!(
            matches!(
                err,
                MediaError::TooLarge {
                    limit: Limit::Memory,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("256 MiB"), "{err}");
    }
}

#[test]
fn damaged_files_are_errors_not_panics() {
    let up = Uploads::new();
    let jpeg = fixtures::jpeg(64, 48);
    let scan = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    let png = fixtures::png(64, 48);
    let gif = fixtures::gif(64, 48, 2);
    let webp = fixtures::webp(64, 48);

    let mut bad_header_crc = png.clone();
    bad_header_crc[29] ^= 0xFF; // the IHDR CRC
    let idat = png.windows(4).position(|w| w == b"IDAT").unwrap();
    let mut bad_data_crc = png.clone();
    bad_data_crc[idat + 6] ^= 0xFF; // a byte of compressed data, so its CRC no longer matches

    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("jpeg cut in its headers", jpeg[..40].to_vec()),
        (
            "jpeg cut in its scan",
            jpeg[..(scan + jpeg.len()) / 2].to_vec(),
        ),
        ("jpeg without its end", jpeg[..jpeg.len() - 2].to_vec()),
        ("png with a bad header CRC", bad_header_crc),
        ("png with a bad data CRC", bad_data_crc),
        ("png cut in its data", png[..png.len() - 20].to_vec()),
        ("gif cut in its first frame", gif[..40].to_vec()),
        ("webp cut in its data", webp[..webp.len() / 2].to_vec()),
        (
            "jpeg magic then noise",
            [&[0xFF, 0xD8, 0xFF][..], &fixtures::noise(500)].concat(),
        ),
        (
            "png signature then noise",
            [&png[..8], &fixtures::noise(500)[..]].concat(),
        ),
    ];
    for (what, bytes) in cases {
        let path = up.put("upload", &bytes);
        let probed = probe(&path);
        let thumbed = thumbnail(&path, 32);
        let squared = square(&path, 32);
        assert!(thumbed.is_err() && squared.is_err(), "{what}: {thumbed:?}");
        assert!(
            probed.as_ref().map_or(true, Option::is_some),
            "{what}: {probed:?}"
        );
        for err in [probed.err(), thumbed.err(), squared.err()]
            .into_iter()
            .flatten()
        {
            assert!(matches!(err, MediaError::Damaged(_)), "{what}: {err:?}");
        }
    }
}
