//! Uploads as the app meets them: files on disk, probed and thumbnailed, good and hostile.

use std::path::PathBuf;

use image::{GenericImageView, Rgb};
use tempfile::TempDir;

use super::fixtures::{self, BLUE, RED};
use super::{ImageInfo, probe, square, thumbnail};

mod hostile;

pub(super) struct Uploads(TempDir);

impl Uploads {
    pub(super) fn new() -> Self {
        Self(tempfile::tempdir().unwrap())
    }

    pub(super) fn put(&self, name: &str, bytes: &[u8]) -> PathBuf {
        fixtures::file(self.0.path(), name, bytes)
    }
}

pub(super) fn info(
    mime: &'static str,
    width: u32,
    height: u32,
    animated: bool,
) -> Option<ImageInfo> {
    Some(ImageInfo {
        mime,
        width,
        height,
        animated,
    })
}

fn near(pixel: Rgb<u8>, want: Rgb<u8>) -> bool {
    pixel.0.iter().zip(want.0).all(|(&a, b)| a.abs_diff(b) < 40)
}

#[test]
fn probe_reads_the_size_and_motion_of_the_four_types() {
    let up = Uploads::new();
    let cases = [
        (
            "a.jpg",
            fixtures::jpeg(40, 30),
            info("image/jpeg", 40, 30, false),
        ),
        (
            "b.png",
            fixtures::png(40, 30),
            info("image/png", 40, 30, false),
        ),
        (
            "c.gif",
            fixtures::gif(40, 30, 1),
            info("image/gif", 40, 30, false),
        ),
        (
            "d.gif",
            fixtures::gif(40, 30, 3),
            info("image/gif", 40, 30, true),
        ),
        (
            "e.webp",
            fixtures::webp(40, 30),
            info("image/webp", 40, 30, false),
        ),
        (
            "f.webp",
            fixtures::webp_frames(40, 30, 2),
            info("image/webp", 40, 30, true),
        ),
        (
            "g.png",
            fixtures::apng(40, 30, 2),
            info("image/png", 40, 30, true),
        ),
    ];
    for (name, bytes, want) in cases {
        assert_eq!(probe(&up.put(name, &bytes)).unwrap(), want, "{name}");
    }
}

#[test]
fn probe_gives_the_size_as_displayed_after_exif_orientation() {
    let up = Uploads::new();
    let sideways = up.put("photo.jpg", &fixtures::jpeg_with_exif(40, 30, 6));
    assert_eq!(probe(&sideways).unwrap(), info("image/jpeg", 30, 40, false));
    let upside_down = up.put("flip.jpg", &fixtures::jpeg_with_exif(40, 30, 3));
    assert_eq!(
        probe(&upside_down).unwrap(),
        info("image/jpeg", 40, 30, false)
    );

    // A camera's 4000 × 3000 held upright: only the header is read.
    let tiff = fixtures::exif_orientation(6, false);
    let camera = fixtures::with_exif(&fixtures::jpeg_claiming(4000, 3000), &tiff);
    let camera = up.put("camera.jpg", &camera);
    assert_eq!(
        probe(&camera).unwrap(),
        info("image/jpeg", 3000, 4000, false)
    );

    let exif = fixtures::exif_orientation(8, false);
    let webp = up.put("turned.webp", &fixtures::webp_with_exif(40, 30, &exif));
    assert_eq!(probe(&webp).unwrap(), info("image/webp", 30, 40, false));
}

#[test]
fn a_thumbnail_is_upright_and_carries_no_exif() {
    let up = Uploads::new();
    let original = fixtures::jpeg_with_exif(80, 40, 6);
    assert!(original.windows(4).any(|w| w == b"Exif"));
    let photo = up.put("IMG_0001.jpg", &original);

    let thumb = thumbnail(&photo, 60).unwrap();
    assert_eq!(
        (thumb.mime, thumb.width, thumb.height),
        ("image/jpeg", 30, 60)
    );
    assert!(
        !thumb.bytes.windows(4).any(|w| w == b"Exif"),
        "EXIF survived"
    );
    assert!(
        !thumb.bytes.windows(2).any(|w| w == [0xFF, 0xE1]),
        "an APP1 segment survived"
    );
    // Orientation 6 turns the picture clockwise: the left (red) half is now on top.
    let decoded = image::load_from_memory(&thumb.bytes).unwrap().into_rgb8();
    assert_eq!(decoded.dimensions(), (30, 60));
    assert!(
        near(*decoded.get_pixel(15, 10), RED),
        "{:?}",
        decoded.get_pixel(15, 10)
    );
    assert!(
        near(*decoded.get_pixel(15, 50), BLUE),
        "{:?}",
        decoded.get_pixel(15, 50)
    );

    let left = up.put("left.jpg", &fixtures::jpeg_with_exif(80, 40, 8));
    let thumb = thumbnail(&left, 60).unwrap();
    assert_eq!((thumb.width, thumb.height), (30, 60));
    let decoded = image::load_from_memory(&thumb.bytes).unwrap().into_rgb8();
    assert!(near(*decoded.get_pixel(15, 10), BLUE) && near(*decoded.get_pixel(15, 50), RED));
}

#[test]
fn a_thumbnail_is_never_enlarged() {
    let up = Uploads::new();
    let small = up.put("small.png", &fixtures::png(50, 20));
    let thumb = thumbnail(&small, 400).unwrap();
    assert_eq!(
        (thumb.mime, thumb.width, thumb.height),
        ("image/jpeg", 50, 20)
    );
    let wide = up.put("wide.png", &fixtures::png(300, 100));
    let thumb = thumbnail(&wide, 90).unwrap();
    assert_eq!((thumb.width, thumb.height), (90, 30));
}

#[test]
fn transparency_makes_a_png_thumbnail_and_opaque_alpha_a_jpeg() {
    let up = Uploads::new();
    let sticker = up.put("sticker.png", &fixtures::png_rgba(64, 64, true));
    let thumb = thumbnail(&sticker, 32).unwrap();
    assert_eq!(
        (thumb.mime, thumb.width, thumb.height),
        ("image/png", 32, 32)
    );
    let decoded = image::load_from_memory(&thumb.bytes).unwrap().into_rgba8();
    assert_eq!(decoded.get_pixel(2, 2).0[3], 0);
    assert_eq!(decoded.get_pixel(30, 30).0[3], 255);

    let opaque = up.put("opaque.png", &fixtures::png_rgba(64, 64, false));
    assert_eq!(thumbnail(&opaque, 32).unwrap().mime, "image/jpeg");
}

#[test]
fn an_animation_is_thumbnailed_from_its_first_frame() {
    let up = Uploads::new();
    for (name, bytes) in [
        ("moving.gif", fixtures::gif(40, 40, 3)),
        ("moving.webp", fixtures::webp_frames(40, 40, 3)),
    ] {
        let thumb = thumbnail(&up.put(name, &bytes), 20).unwrap();
        assert_eq!((thumb.width, thumb.height), (20, 20), "{name}");
        let decoded = image::load_from_memory(&thumb.bytes).unwrap().into_rgb8();
        assert!(
            near(*decoded.get_pixel(10, 10), RED),
            "{name}: {:?}",
            decoded.get_pixel(10, 10)
        );
    }
}

#[test]
fn a_square_is_the_upright_middle_at_the_side_asked() {
    let up = Uploads::new();
    // 120 × 40, red | blue: the middle 40 × 40 straddles the halves.
    let banner = up.put("banner.png", &fixtures::png(120, 40));
    let avatar = square(&banner, 20).unwrap();
    assert_eq!(
        (avatar.mime, avatar.width, avatar.height),
        ("image/jpeg", 20, 20)
    );
    let decoded = image::load_from_memory(&avatar.bytes).unwrap().into_rgb8();
    assert!(near(*decoded.get_pixel(3, 10), RED) && near(*decoded.get_pixel(16, 10), BLUE));

    // Sideways (orientation 6): upright it is 40 × 80 with red above blue.
    let portrait = up.put("portrait.jpg", &fixtures::jpeg_with_exif(80, 40, 6));
    let avatar = square(&portrait, 32).unwrap();
    assert_eq!((avatar.width, avatar.height), (32, 32));
    let decoded = image::load_from_memory(&avatar.bytes).unwrap().into_rgb8();
    assert!(near(*decoded.get_pixel(16, 4), RED) && near(*decoded.get_pixel(16, 28), BLUE));
    assert!(!avatar.bytes.windows(4).any(|w| w == b"Exif"));

    // A picture smaller than asked keeps its short side.
    let tiny = up.put("tiny.gif", &fixtures::gif(30, 12, 1));
    let avatar = square(&tiny, 256).unwrap();
    assert_eq!((avatar.width, avatar.height), (12, 12));
}

#[test]
fn thumbnails_of_each_type_decode_as_what_they_claim() {
    let up = Uploads::new();
    for (name, bytes) in [
        ("a.jpg", fixtures::jpeg(48, 32)),
        ("b.png", fixtures::png(48, 32)),
        ("c.gif", fixtures::gif(48, 32, 1)),
        ("d.webp", fixtures::webp(48, 32)),
    ] {
        let thumb = thumbnail(&up.put(name, &bytes), 24).unwrap();
        let format = image::guess_format(&thumb.bytes).unwrap();
        assert_eq!(format.to_mime_type(), thumb.mime, "{name}");
        let decoded = image::load_from_memory(&thumb.bytes).unwrap();
        assert_eq!(decoded.dimensions(), (24, 16), "{name}");
    }
}
