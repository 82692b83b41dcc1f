//! What keeps a page from running anything but our own code: the content security policy with
//! this response's script nonce, and signed error links for pages posted without JavaScript.
//!
//! A form posted without JavaScript that fails comes back to its page with the error in the
//! address (`?__err=…`), which the page shows in its alert box. Anyone could write such an
//! address, so the server signs the ones it makes (`__sig`, valid for ten minutes) and pages
//! ignore the others.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How long a signed error link is shown, in seconds.
const ERROR_LINK_LIFETIME_SECS: i64 = 600;

/// The policy for an HTML page. `nonce` is the one the page's own scripts carry; without one
/// no inline script runs at all. `'wasm-unsafe-eval'` lets the app's wasm compile.
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let scripts = match nonce {
        Some(nonce) => format!("'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
        None => "'self' 'wasm-unsafe-eval'".to_string(),
    };
    format!(
        "default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Inside a server render: sends the policy that lets exactly this response's scripts run.
pub fn send_policy_with_nonce() {
    use leptos::prelude::use_context;
    let Some(nonce) = leptos::nonce::use_nonce() else {
        return;
    };
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    if let Ok(value) = http::HeaderValue::from_str(&content_security_policy(Some(&nonce))) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The key error links are signed with. Every node of a site uses the same one
/// (`services::site_keys`); a fresh random one (`default`) serves commands that sign nothing.
#[derive(Clone)]
pub struct ErrorLinkKey([u8; 32]);

impl ErrorLinkKey {
    /// The key derived from the site's secret (`SECRET_KEY`), for this use alone.
    pub fn derived_from(secret: &str) -> ErrorLinkKey {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
        mac.update(b"ticketing: error links");
        ErrorLinkKey(mac.finalize().into_bytes().into())
    }

    /// The key as kept: 64 hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// A key kept by [`ErrorLinkKey::to_hex`]; `None` for anything else.
    pub fn from_hex(text: &str) -> Option<ErrorLinkKey> {
        hex::decode(text.trim())
            .ok()?
            .try_into()
            .ok()
            .map(ErrorLinkKey)
    }
}

impl Default for ErrorLinkKey {
    fn default() -> Self {
        use rand::RngCore;
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        ErrorLinkKey(key)
    }
}

impl std::fmt::Debug for ErrorLinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ErrorLinkKey(…)")
    }
}

impl ErrorLinkKey {
    /// The MAC over one error link, ready to finish or to check.
    fn keyed(&self, path: &str, err: &str, expires: i64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(path.as_bytes());
        mac.update(b"\0");
        mac.update(err.as_bytes());
        mac.update(b"\0");
        mac.update(expires.to_string().as_bytes());
        mac
    }

    fn mac(&self, path: &str, err: &str, expires: i64) -> String {
        hex::encode(self.keyed(path, err, expires).finalize().into_bytes())
    }

    /// The `__sig` value for an error link made at `now_secs`.
    pub fn sign(&self, path: &str, err: &str, now_secs: i64) -> String {
        let expires = now_secs + ERROR_LINK_LIFETIME_SECS;
        format!("{expires}.{}", self.mac(path, err, expires))
    }

    /// Whether `sig` is this server's signature of the link and has not run out.
    pub fn verify(&self, path: &str, err: &str, sig: &str, now_secs: i64) -> bool {
        let Some((expires, mac)) = sig.split_once('.') else {
            return false;
        };
        let Ok(expires) = expires.parse::<i64>() else {
            return false;
        };
        let Ok(given) = hex::decode(mac) else {
            return false;
        };
        if expires < now_secs || expires > now_secs + ERROR_LINK_LIFETIME_SECS {
            return false;
        }
        self.keyed(path, err, expires).verify_slice(&given).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_error_link_verifies_only_as_made_and_only_for_ten_minutes() {
        let key = ErrorLinkKey::default();
        let sig = key.sign("/_fn/sign_in", "eyJlcnJvcnMiOltdfQ", 1_000);
        assert!(key.verify("/_fn/sign_in", "eyJlcnJvcnMiOltdfQ", &sig, 1_000));
        assert!(key.verify("/_fn/sign_in", "eyJlcnJvcnMiOltdfQ", &sig, 1_600));
        assert!(!key.verify("/_fn/sign_in", "eyJlcnJvcnMiOltdfQ", &sig, 1_601));
        assert!(!key.verify("/_fn/sign_in", "ZXZpbA", &sig, 1_000));
        assert!(!key.verify("/_fn/sign_up", "eyJlcnJvcnMiOltdfQ", &sig, 1_000));
        assert!(!ErrorLinkKey::default().verify("/_fn/sign_in", "eyJlcnJvcnMiOltdfQ", &sig, 1_000));
        assert!(!key.verify(
            "/_fn/sign_in",
            "eyJlcnJvcnMiOltdfQ",
            "99999999999.00",
            1_000
        ));
        assert!(!key.verify("/_fn/sign_in", "eyJlcnJvcnMiOltdfQ", "garbage", 1_000));
    }

    #[test]
    fn the_policy_allows_inline_scripts_only_with_the_nonce() {
        let with = content_security_policy(Some("abc"));
        assert!(with.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"));
        assert!(!with.contains("'unsafe-inline' 'wasm"));
        let without = content_security_policy(None);
        assert!(without.contains("script-src 'self' 'wasm-unsafe-eval';"));
    }
}
