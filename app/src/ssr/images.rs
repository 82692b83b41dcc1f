//! Event images, which are hostile input: decoded by the `image` crate under a pixel limit
//! checked before anything is decoded, turned upright (EXIF orientation), and re-encoded as
//! JPEG at two widths. Nothing of the upload survives but its pixels: no metadata, no trailing
//! bytes of a polyglot, no format a browser could be tricked into sniffing.

use crate::domain::ErrorDetail;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};
use sha2::{Digest, Sha256};
use std::io::Cursor;

/// The most pixels an upload may declare (40 megapixels).
pub const MAX_PIXELS: u64 = 40_000_000;
/// The widths an image is kept at: the event page's, and the cards'.
pub const LARGE_WIDTH: u32 = 1200;
pub const SMALL_WIDTH: u32 = 400;
/// JPEG quality of the kept copies.
const QUALITY: u8 = 82;

pub const IMAGE_UNREADABLE: &str = "Image could not be read";
pub const IMAGE_TOO_LARGE: &str = "Image is too large";

/// One kept copy: its name under `/media/` (the hash of its bytes), size and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub bytes: Vec<u8>,
}

impl Encoded {
    pub const CONTENT_TYPE: &'static str = "image/jpeg";
}

/// An upload's two kept copies.
#[derive(Debug, Clone)]
pub struct Processed {
    pub large: Encoded,
    pub small: Encoded,
}

fn unreadable() -> ErrorDetail {
    ErrorDetail::field("image", IMAGE_UNREADABLE)
}

/// Decodes `bytes` (JPEG, PNG or WebP, whatever the upload claimed) and makes its copies. CPU
/// heavy: run it on a blocking thread.
pub fn process(bytes: &[u8]) -> Result<Processed, ErrorDetail> {
    let reader = || {
        ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|_| unreadable())
    };
    let format = reader()?.format();
    if !matches!(
        format,
        Some(ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)
    ) {
        return Err(unreadable());
    }
    // The size the file declares, read from its header before a pixel is decoded: a
    // decompression bomb is refused here.
    let (width, height) = reader()?.into_dimensions().map_err(|_| unreadable())?;
    if width == 0 || height == 0 {
        return Err(unreadable());
    }
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ErrorDetail::field("image", IMAGE_TOO_LARGE));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    // The decoded pixels (at most 4 bytes each, 16-bit channels doubling it) and some room.
    limits.max_alloc = Some(MAX_PIXELS * 8 + (64 << 20));
    let mut reader = reader()?;
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|_| unreadable())?;
    let orientation = decoder.orientation().ok();
    let mut decoded = DynamicImage::from_decoder(decoder).map_err(|_| unreadable())?;
    if let Some(orientation) = orientation {
        decoded.apply_orientation(orientation);
    }
    let rgb = flatten(&decoded);
    Ok(Processed {
        large: encode(&rgb, LARGE_WIDTH)?,
        small: encode(&rgb, SMALL_WIDTH)?,
    })
}

/// The image's colours on a white ground (JPEG has no transparency).
fn flatten(image: &DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over = |c: u8| ((u32::from(c) * u32::from(a) + 255 * (255 - u32::from(a))) / 255) as u8;
        image::Rgb([over(r), over(g), over(b)])
    })
}

/// `image` at most `width` wide (never enlarged), as JPEG.
fn encode(image: &RgbImage, width: u32) -> Result<Encoded, ErrorDetail> {
    let scaled;
    let image = if image.width() > width {
        let height = ((u64::from(image.height()) * u64::from(width)) / u64::from(image.width()))
            .max(1) as u32;
        scaled =
            image::imageops::resize(image, width, height, image::imageops::FilterType::Triangle);
        &scaled
    } else {
        image
    };
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, QUALITY)
        .encode_image(image)
        .map_err(|_| unreadable())?;
    let hash = hex::encode(Sha256::digest(&bytes));
    Ok(Encoded {
        name: format!("{}.jpg", &hash[..32]),
        width: image.width(),
        height: image.height(),
        bytes,
    })
}

/// Whether `name` could be a kept copy's (`<32 hex digits>.jpg`): anything else is not looked
/// up.
pub fn is_media_name(name: &str) -> bool {
    name.strip_suffix(".jpg").is_some_and(|hash| {
        hash.len() == 32
            && hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, Rgba, RgbaImage};

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = RgbaImage::from_fn(width, height, |x, y| {
            Rgba([
                (x % 256) as u8,
                (y % 256) as u8,
                128,
                if x < 4 { 0 } else { 255 },
            ])
        });
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(
                image.as_raw(),
                width,
                height,
                image::ExtendedColorType::Rgba8,
            )
            .unwrap();
        out
    }

    #[test]
    fn an_image_is_kept_at_two_widths_as_plain_jpeg() {
        let processed = process(&png(1600, 800)).unwrap();
        assert_eq!((processed.large.width, processed.large.height), (1200, 600));
        assert_eq!((processed.small.width, processed.small.height), (400, 200));
        for copy in [&processed.large, &processed.small] {
            assert!(copy.bytes.starts_with(&[0xFF, 0xD8]), "JPEG");
            assert!(is_media_name(&copy.name), "{}", copy.name);
            let back = image::load_from_memory(&copy.bytes).unwrap();
            assert_eq!(back.width(), copy.width);
        }
        // Transparent pixels land on white, not black.
        let back = image::load_from_memory(&processed.large.bytes)
            .unwrap()
            .to_rgb8();
        assert!(back.get_pixel(0, 10).0.iter().all(|c| *c > 200));
        // Small images are never enlarged; the same pixels make the same name.
        let small = process(&png(300, 100)).unwrap();
        assert_eq!(small.large.width, 300);
        assert_eq!(small.large, small.small);
    }

    #[test]
    fn anything_that_is_not_a_small_enough_image_is_refused() {
        let good = png(64, 64);
        let unreadable = Err(ErrorDetail::field("image", IMAGE_UNREADABLE));
        assert_eq!(process(b"").map(|_| ()), unreadable);
        assert_eq!(
            process(b"<svg xmlns='http://www.w3.org/2000/svg'/>").map(|_| ()),
            unreadable
        );
        assert_eq!(process(b"GIF89a\x01\x00\x01\x00").map(|_| ()), unreadable);
        assert_eq!(
            process(&good[..good.len() / 2]).map(|_| ()),
            unreadable,
            "truncated"
        );
        // A PNG header declaring 60,000 × 60,000 pixels is refused before decoding.
        let mut bomb = good.clone();
        bomb[16..20].copy_from_slice(&60_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&60_000u32.to_be_bytes());
        // The header's checksum, so that only its size is wrong.
        let crc = crc32(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(
            process(&bomb).map(|_| ()),
            Err(ErrorDetail::field("image", IMAGE_TOO_LARGE))
        );
        // A polyglot (an image with a script after it) keeps only its pixels.
        let mut polyglot = good.clone();
        polyglot.extend_from_slice(b"<script>alert(1)</script>");
        let kept = process(&polyglot).unwrap();
        assert!(!kept.large.bytes.windows(7).any(|w| w == b"<script"));
    }

    /// CRC-32 as PNG chunks carry it.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for byte in bytes {
            crc ^= u32::from(*byte);
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

    #[test]
    fn only_names_of_kept_copies_are_looked_up() {
        assert!(is_media_name("0123456789abcdef0123456789abcdef.jpg"));
        for bad in [
            "",
            "x.jpg",
            "../etc/passwd",
            "0123456789ABCDEF0123456789abcdef.jpg",
            "0123456789abcdef0123456789abcdef.png",
        ] {
            assert!(!is_media_name(bad), "{bad}");
        }
    }
}
