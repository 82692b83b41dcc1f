//! What a buyer asks the browse page for: the one type that the home page's address, its filter
//! form, the `browse_tickets` server function, `GET /api/tickets` and the page cache all read.
//! Its values are as given; the browse service parses them (and refuses bad ones).

use super::{Category, ErrorDetail};
use serde::{Deserialize, Serialize};

/// A browse page's query: search words, category, sort and page number, each as given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ssr",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
pub struct BrowseQuery {
    /// Words the title must contain (each also as a prefix).
    pub q: Option<String>,
    /// `sports`, `concert`, `theater` or `other`.
    pub category: Option<String>,
    /// `new` (default), `date` or `price`.
    pub sort: Option<String>,
    /// From 1.
    pub page: Option<String>,
    /// Only this event's resale listings (`GET /api/tickets` only; the `/tickets` page shows
    /// other listings).
    #[serde(rename = "eventId", default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
}

impl BrowseQuery {
    /// The parameters a browse page reads, in the order its addresses write them. Any other
    /// parameter changes nothing on the page.
    pub const PARAMETERS: [&'static str; 4] = ["q", "category", "sort", "page"];

    /// The address of page `page` with the same search, category and sort (empty ones left out).
    pub fn href(&self, page: i64) -> String {
        let mut pairs = Vec::new();
        for (key, value) in [
            ("q", &self.q),
            ("category", &self.category),
            ("sort", &self.sort),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                pairs.push(format!("{key}={}", urlencode(value)));
            }
        }
        if page > 1 {
            pairs.push(format!("page={page}"));
        }
        if pairs.is_empty() {
            "/tickets".to_string()
        } else {
            format!("/tickets?{}", pairs.join("&"))
        }
    }
}

pub const PAGE_INVALID: &str = "Page must be a whole number from 1";

/// A page number as given: blank is the first page; anything but a whole number from 1 to `last`
/// is refused (field `page`).
pub fn parse_page(input: Option<&str>, last: i64) -> Result<i64, ErrorDetail> {
    match input.map(str::trim).filter(|p| !p.is_empty()) {
        None => Ok(1),
        Some(text) => match text.parse::<i64>() {
            Ok(page) if (1..=last).contains(&page) => Ok(page),
            _ => Err(ErrorDetail::field("page", PAGE_INVALID)),
        },
    }
}

/// A category filter as given: blank or `all` is every category.
pub fn parse_category_filter(input: Option<&str>) -> Result<Option<Category>, ErrorDetail> {
    match input
        .map(str::trim)
        .filter(|c| !c.is_empty() && *c != "all")
    {
        None => Ok(None),
        Some(name) => Category::parse(Some(name)).map(Some),
    }
}

/// `value` as a query string writes it (`application/x-www-form-urlencoded`).
pub fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_links_keep_the_filters() {
        let query = BrowseQuery {
            q: Some("rock & roll <b>".into()),
            category: Some("concert".into()),
            sort: Some(String::new()),
            page: Some("3".into()),
            event_id: None,
        };
        assert_eq!(
            query.href(2),
            "/tickets?q=rock+%26+roll+%3Cb%3E&category=concert&page=2"
        );
        assert_eq!(
            query.href(1),
            "/tickets?q=rock+%26+roll+%3Cb%3E&category=concert"
        );
        assert_eq!(BrowseQuery::default().href(1), "/tickets");
    }

    #[test]
    fn pages_and_category_filters_are_read_leniently_and_refused_plainly() {
        assert_eq!(parse_page(None, 10), Ok(1));
        assert_eq!(parse_page(Some("  "), 10), Ok(1));
        assert_eq!(parse_page(Some(" 3 "), 10), Ok(3));
        for bad in ["0", "11", "-1", "2.5", "<b>", "99999999999999999999"] {
            assert_eq!(
                parse_page(Some(bad), 10),
                Err(ErrorDetail::field("page", PAGE_INVALID)),
                "{bad}"
            );
        }
        assert_eq!(parse_category_filter(None), Ok(None));
        assert_eq!(parse_category_filter(Some("all")), Ok(None));
        assert_eq!(
            parse_category_filter(Some("Sports")),
            Ok(Some(Category::Sports))
        );
        assert!(parse_category_filter(Some("opera")).is_err());
    }
}
