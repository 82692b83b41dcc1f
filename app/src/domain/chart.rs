//! Sales per day as a bar chart in SVG, drawn on the server so that it shows without
//! JavaScript. Every piece of text in it is escaped; it carries a title and a description for
//! screen readers, and a table beside it on the page gives the same figures.

use chrono::NaiveDate;

const WIDTH: u32 = 640;
const HEIGHT: u32 = 200;
const LEFT: u32 = 40;
const BOTTOM: u32 = 24;
const TOP: u32 = 12;

/// `text` escaped for SVG (XML) text and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // XML 1.0 allows no other control characters.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// Every day from the first sale to the last with its count (days without a sale are 0), at
/// most the last `max_days` of them.
pub fn every_day(sales: &[(NaiveDate, i64)], max_days: usize) -> Vec<(NaiveDate, i64)> {
    let (Some(first), Some(last)) = (
        sales.iter().map(|(d, _)| *d).min(),
        sales.iter().map(|(d, _)| *d).max(),
    ) else {
        return Vec::new();
    };
    let mut days: Vec<(NaiveDate, i64)> = first
        .iter_days()
        .take_while(|day| *day <= last)
        .map(|day| {
            let count = sales
                .iter()
                .filter(|(d, _)| *d == day)
                .map(|(_, n)| n)
                .sum();
            (day, count)
        })
        .collect();
    if days.len() > max_days {
        days.drain(..days.len() - max_days);
    }
    days
}

/// The chart of tickets sold per day (`days`, oldest first), titled `title`.
pub fn sales_svg(title: &str, days: &[(NaiveDate, i64)]) -> String {
    let title = escape(title);
    let total: i64 = days.iter().map(|(_, n)| n).sum();
    let most = days.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let plot_width = WIDTH - LEFT - 8;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let slot = f64::from(plot_width) / days.len().max(1) as f64;
    let bar = (slot * 0.8).max(1.0);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"sales-chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-labelledby=\"sales-title sales-desc\">\
         <title id=\"sales-title\">Tickets sold per day: {title}</title>\
         <desc id=\"sales-desc\">{total} sold over {} days; the most in one day was {most}.</desc>",
        days.len()
    );
    let axis_y = TOP + plot_height;
    svg.push_str(&format!(
        "<line x1=\"{LEFT}\" y1=\"{axis_y}\" x2=\"{}\" y2=\"{axis_y}\" class=\"axis\"/>\
         <text x=\"{}\" y=\"{}\" class=\"label\" text-anchor=\"end\">{most}</text>\
         <text x=\"{}\" y=\"{axis_y}\" class=\"label\" text-anchor=\"end\">0</text>",
        WIDTH - 8,
        LEFT - 6,
        TOP + 10,
        LEFT - 6,
    ));
    for (i, (day, count)) in days.iter().enumerate() {
        let height = (*count as f64 / most as f64) * f64::from(plot_height);
        let x = f64::from(LEFT) + slot * i as f64 + (slot - bar) / 2.0;
        let y = f64::from(axis_y) - height;
        svg.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{height:.1}\" class=\"bar\"><title>{}: {count}</title></rect>",
            day.format("%a %-d %b")
        ));
    }
    // The first and last day under the axis.
    if let (Some((first, _)), Some((last, _))) = (days.first(), days.last()) {
        svg.push_str(&format!(
            "<text x=\"{LEFT}\" y=\"{}\" class=\"label\">{}</text>",
            HEIGHT - 6,
            first.format("%-d %b")
        ));
        if days.len() > 1 {
            svg.push_str(&format!(
                "<text x=\"{}\" y=\"{}\" class=\"label\" text-anchor=\"end\">{}</text>",
                WIDTH - 8,
                HEIGHT - 6,
                last.format("%-d %b")
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2030, 6, d).unwrap()
    }

    #[test]
    fn days_without_sales_are_drawn_as_zero_and_only_the_latest_are_kept() {
        let days = every_day(&[(day(3), 2), (day(1), 1), (day(3), 4)], 100);
        assert_eq!(days, [(day(1), 1), (day(2), 0), (day(3), 6)]);
        assert_eq!(
            every_day(&[(day(1), 1), (day(5), 2)], 2),
            [(day(4), 0), (day(5), 2)]
        );
        assert!(every_day(&[], 10).is_empty());
    }

    #[test]
    fn the_chart_escapes_its_title_and_draws_a_bar_a_day() {
        let svg = sales_svg(
            "</svg><script>alert(1)</script> & \"x\"\u{0}",
            &[(day(1), 1), (day(2), 0), (day(3), 6)],
        );
        assert!(!svg.contains("<script"));
        assert!(
            svg.contains("&lt;/svg&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;")
        );
        assert!(!svg.contains('\u{0}'));
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("7 sold over 3 days; the most in one day was 6."));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        // The tallest bar fills the plot; an empty day has no height.
        assert!(svg.contains("height=\"164.0\""));
        assert!(svg.contains("height=\"0.0\""));
        let empty = sales_svg("Gig", &[]);
        assert!(empty.contains("0 sold over 0 days"));
    }
}
