//! QR codes for ticket codes, drawn on the server as inline SVG (no script, no image request).

use qrcode::QrCode;
use qrcode::render::svg;

/// An SVG QR code holding `text`, about 176 px wide with its quiet zone.
pub fn svg(text: &str) -> String {
    match QrCode::new(text.as_bytes()) {
        Ok(code) => code
            .render::<svg::Color<'_>>()
            .min_dimensions(176, 176)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build(),
        // Ticket codes are 45 ASCII characters; a QR code holds far more, so this cannot happen.
        Err(err) => {
            tracing::error!(error = %err, "could not draw a QR code");
            String::new()
        }
    }
}

/// A PNG QR code holding `text`, about 176 px wide with its quiet zone, black on white: for
/// mail, whose readers show images carried in the message but not inline SVG.
pub fn png(text: &str) -> Option<Vec<u8>> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    let image = code
        .render::<image::Luma<u8>>()
        .min_dimensions(176, 176)
        .build();
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageLuma8(image)
        .write_to(&mut out, image::ImageFormat::Png)
        .ok()?;
    Some(out.into_inner())
}

#[cfg(test)]
mod tests {
    #[test]
    fn draws_an_svg_image() {
        let image = super::svg("TKT-0123ABCD-0123ABCD-0123ABCD-0123ABCD");
        assert!(
            image.starts_with("<?xml") || image.starts_with("<svg"),
            "{}",
            &image[..40]
        );
        assert!(image.contains("<svg") && image.contains("</svg>"));
    }

    #[test]
    fn draws_a_png_image() {
        let png = super::png("TKT-0123ABCD-0123ABCD-0123ABCD-0123ABCD").unwrap();
        let image = image::load_from_memory(&png).unwrap();
        assert!(image.width() >= 176 && image.width() == image.height());
    }
}
