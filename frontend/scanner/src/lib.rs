//! Reads a ticket's QR code from a camera frame. The door page (`/check-in`) loads this module
//! only when the browser has no `BarcodeDetector` of its own, so no other page pays for it.

use wasm_bindgen::prelude::wasm_bindgen;

/// The text of the first QR code found in an RGBA frame `width` × `height` pixels, or `None`.
#[wasm_bindgen]
pub fn decode(width: u32, height: u32, rgba: &[u8]) -> Option<String> {
    let (w, h) = (width as usize, height as usize);
    if w == 0 || h == 0 || rgba.len() < w * h * 4 {
        return None;
    }
    let luma = |x: usize, y: usize| {
        let i = (y * w + x) * 4;
        let (r, g, b) = (
            u32::from(rgba[i]),
            u32::from(rgba[i + 1]),
            u32::from(rgba[i + 2]),
        );
        ((r * 299 + g * 587 + b * 114) / 1000) as u8
    };
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, luma);
    image
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An RGBA frame with `text` as a QR code, `scale` pixels a module, on a white margin.
    fn frame(text: &str, scale: usize) -> (u32, u32, Vec<u8>) {
        let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
        let modules = code.width();
        let side = (modules + 8) * scale;
        let mut rgba = vec![255u8; side * side * 4];
        for (i, color) in code.to_colors().iter().enumerate() {
            if *color == qrcode::Color::Dark {
                let (mx, my) = (i % modules + 4, i / modules + 4);
                for y in my * scale..(my + 1) * scale {
                    for x in mx * scale..(mx + 1) * scale {
                        let p = (y * side + x) * 4;
                        rgba[p..p + 3].fill(0);
                    }
                }
            }
        }
        (side as u32, side as u32, rgba)
    }

    #[test]
    fn reads_a_ticket_code_from_a_frame() {
        let code = "TKT-0123ABCD-4567EF01-89ABCDEF-00112233";
        let (w, h, rgba) = frame(code, 6);
        assert_eq!(decode(w, h, &rgba).as_deref(), Some(code));
    }

    #[test]
    fn a_frame_without_a_code_or_of_the_wrong_size_reads_nothing() {
        assert_eq!(decode(64, 64, &vec![255; 64 * 64 * 4]), None);
        assert_eq!(decode(64, 64, &[0; 10]), None);
        assert_eq!(decode(0, 0, &[]), None);
    }
}
