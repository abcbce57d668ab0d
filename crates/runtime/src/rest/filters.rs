//! What Java's Connect adds around its resources with Jetty filters: cross-origin headers
//! (`access.control.allow.origin` / `.methods`, Jetty's `CrossOriginFilter`) and configured
//! response headers (`response.http.headers.config`, Jetty's `HeaderFilter`).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::config::{HeaderAction, HeaderRule};
use super::server::AppState;

/// Jetty's default allowed methods and headers.
const DEFAULT_ALLOWED_METHODS: &str = "GET,POST,HEAD";
const DEFAULT_ALLOWED_HEADERS: &str = "X-Requested-With,Content-Type,Accept,Origin";
/// Jetty's default preflight max age, in seconds.
const PREFLIGHT_MAX_AGE: &str = "1800";

/// Runs the request, then adds the cross-origin and configured headers to its answer.
pub async fn apply(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let config = state.config();
    let (method, uri, started) = (
        request.method().clone(),
        request.uri().clone(),
        Instant::now(),
    );
    let cors = (!config.allowed_origins.is_empty())
        .then(|| {
            cors_headers(
                &config.allowed_origins,
                &config.allowed_methods,
                request.method(),
                request.headers(),
            )
        })
        .flatten();
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if let Some(cors) = cors {
        headers.extend(cors);
    }
    apply_rules(&config.response_headers, headers, SystemTime::now());
    // Java's REST server logs every request, as Jetty's request log.
    tracing::info!(
        %method,
        %uri,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "REST request"
    );
    response
}

/// Jersey answers `OPTIONS` on any resource itself: 200 with the methods it allows, in the
/// `Allow` header and as plain text (WADL being disabled in Connect). `response` is the router's
/// answer to an `OPTIONS` request, a 405 naming the allowed methods where the path exists.
pub fn answer_options(response: Response) -> Response {
    if response.status() != StatusCode::METHOD_NOT_ALLOWED {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let mut methods: Vec<String> = parts
        .headers
        .get(header::ALLOW)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(',')
                .map(|m| m.trim().to_owned())
                .filter(|m| !m.is_empty())
                .collect()
        })
        .unwrap_or_default();
    methods.push("OPTIONS".to_owned());
    parts.status = StatusCode::OK;
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    parts.headers.remove(header::CONTENT_LENGTH);
    if let Ok(allow) = HeaderValue::from_str(&methods.join(",")) {
        parts.headers.insert(header::ALLOW, allow);
    }
    Response::from_parts(parts, methods.join(", ").into())
}

/// The headers Jetty's `CrossOriginFilter` answers a request from an allowed origin with.
fn cors_headers(
    allowed_origins: &str,
    allowed_methods: &str,
    method: &Method,
    request: &HeaderMap,
) -> Option<HeaderMap> {
    let origin = request.get(header::ORIGIN)?.to_str().ok()?;
    if !origin_allowed(allowed_origins, origin) {
        return None;
    }
    let methods = if allowed_methods.is_empty() {
        DEFAULT_ALLOWED_METHODS
    } else {
        allowed_methods
    };
    let mut headers = HeaderMap::new();
    let preflight_method = request.get(header::ACCESS_CONTROL_REQUEST_METHOD);
    if method == Method::OPTIONS && preflight_method.is_some() {
        let requested = preflight_method?.to_str().ok()?;
        if !methods
            .split(',')
            .any(|m| m.trim().eq_ignore_ascii_case(requested))
        {
            return None;
        }
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_str(methods).ok()?,
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(DEFAULT_ALLOWED_HEADERS),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(PREFLIGHT_MAX_AGE),
        );
    }
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_str(origin).ok()?,
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    Some(headers)
}

/// Whether `origin` is in the comma-separated list, where `*` alone allows any origin and a `*`
/// inside an entry matches any characters, as in Jetty.
fn origin_allowed(allowed: &str, origin: &str) -> bool {
    allowed
        .split(',')
        .map(str::trim)
        .any(|pattern| pattern == "*" || glob_match(pattern, origin))
}

fn glob_match(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((prefix, rest)) => {
            text.starts_with(prefix)
                && (0..=text.len() - prefix.len())
                    .filter(|&i| text.is_char_boundary(prefix.len() + i))
                    .any(|i| glob_match(rest, &text[prefix.len() + i..]))
        }
    }
}

/// Applies `response.http.headers.config` as Jetty's `HeaderFilter` does.
fn apply_rules(rules: &[HeaderRule], headers: &mut HeaderMap, now: SystemTime) {
    for rule in rules {
        let Ok(name) = HeaderName::from_bytes(rule.name.as_bytes()) else {
            continue;
        };
        let value = match rule.action {
            HeaderAction::Set | HeaderAction::Add => HeaderValue::from_str(&rule.value).ok(),
            HeaderAction::SetDate | HeaderAction::AddDate => rule
                .value
                .parse::<i64>()
                .ok()
                .map(|offset| http_date(now, offset))
                .and_then(|date| HeaderValue::from_str(&date).ok()),
        };
        let Some(value) = value else { continue };
        match rule.action {
            HeaderAction::Set | HeaderAction::SetDate => {
                headers.insert(name, value);
            }
            HeaderAction::Add | HeaderAction::AddDate => {
                headers.append(name, value);
            }
        }
    }
}

/// `now` plus `offset_ms` as an RFC 1123 date, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
fn http_date(now: SystemTime, offset_ms: i64) -> String {
    let base = now
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis() as i64;
    let secs = (base + offset_ms).div_euclid(1000);
    let (days, secs_of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        secs_of_day / 3600,
        secs_of_day / 60 % 60,
        secs_of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc_1123() {
        let at = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(http_date(at, 0), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(at, 86_400_000), "Mon, 07 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(UNIX_EPOCH, 0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn rules_set_and_add() {
        let rules = [
            HeaderRule {
                action: HeaderAction::Set,
                name: "X-A".into(),
                value: "1".into(),
            },
            HeaderRule {
                action: HeaderAction::Add,
                name: "X-A".into(),
                value: "2".into(),
            },
            HeaderRule {
                action: HeaderAction::SetDate,
                name: "Expires".into(),
                value: "0".into(),
            },
        ];
        let mut headers = HeaderMap::new();
        headers.insert("x-a", HeaderValue::from_static("0"));
        apply_rules(&rules, &mut headers, UNIX_EPOCH);
        assert_eq!(
            headers.get_all("x-a").iter().collect::<Vec<_>>(),
            ["1", "2"]
        );
        assert_eq!(headers["expires"], "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn origins_match_like_jetty() {
        assert!(origin_allowed("*", "http://bar.com"));
        assert!(origin_allowed(
            "http://a.com, http://*.bar.com",
            "http://x.bar.com"
        ));
        assert!(!origin_allowed("http://a.com", "http://bar.com"));
        let mut request = HeaderMap::new();
        request.insert(header::ORIGIN, HeaderValue::from_static("http://bar.com"));
        let simple = cors_headers("*", "", &Method::GET, &request).unwrap();
        assert_eq!(
            simple[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "http://bar.com"
        );
        request.insert(
            header::ACCESS_CONTROL_REQUEST_METHOD,
            HeaderValue::from_static("PUT"),
        );
        assert!(cors_headers("*", "", &Method::OPTIONS, &request).is_none());
        let preflight = cors_headers("*", "PUT", &Method::OPTIONS, &request).unwrap();
        assert_eq!(preflight[header::ACCESS_CONTROL_ALLOW_METHODS], "PUT");
    }
}
