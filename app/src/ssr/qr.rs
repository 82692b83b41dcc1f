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
}
