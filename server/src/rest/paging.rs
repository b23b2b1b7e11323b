//! Page links: the `next` field and an RFC 8288 `Link` header.
use axum::http::{header, HeaderMap, HeaderValue, Uri};
use silo_domain::services::stats::PageRequest;

use crate::state::AppState;

/// The URL of `page` of the list `uri` asks for (its other parameters kept).
fn page_url(state: &AppState, uri: &Uri, page: u64) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        if key != "page" {
            query.append_pair(&key, &value);
        }
    }
    query.append_pair("page", &page.to_string());
    format!("{}{}?{}", state.public_url, uri.path(), query.finish())
}

/// The next page's URL (if any) and the `Link` header.
pub fn paging(
    state: &AppState,
    uri: &Uri,
    page: PageRequest,
    total: u64,
) -> (Option<String>, HeaderMap) {
    let last = total.div_ceil(page.per_page).max(1);
    let next = (page.page < last).then(|| page_url(state, uri, page.page + 1));
    let mut links = vec![format!("<{}>; rel=\"first\"", page_url(state, uri, 1))];
    if page.page > 1 {
        let prev = (page.page - 1).min(last);
        links.push(format!("<{}>; rel=\"prev\"", page_url(state, uri, prev)));
    }
    if let Some(next) = &next {
        links.push(format!("<{next}>; rel=\"next\""));
    }
    links.push(format!("<{}>; rel=\"last\"", page_url(state, uri, last)));
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&links.join(", ")) {
        headers.insert(header::LINK, value);
    }
    (next, headers)
}
