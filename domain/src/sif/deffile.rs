//! The parts of a definition file and of JSON labels that Silo displays.
use std::collections::BTreeMap;

/// The `%section` bodies of a definition file (lower-case names, first occurrence wins),
/// with common indentation removed.
pub fn sections(def: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    let finish = |cur: Option<(String, Vec<&str>)>, out: &mut BTreeMap<String, String>| {
        if let Some((name, lines)) = cur {
            let body = dedent(&lines);
            if !body.is_empty() {
                out.entry(name).or_insert(body);
            }
        }
    };
    for line in def.lines() {
        if let Some(rest) = line.trim_start().strip_prefix('%') {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            if !name.is_empty() {
                finish(current.take(), &mut out);
                current = Some((name, Vec::new()));
                continue;
            }
        }
        if let Some((_, lines)) = current.as_mut() {
            lines.push(line);
        }
    }
    finish(current, &mut out);
    out
}

fn dedent(lines: &[&str]) -> String {
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let body: Vec<&str> = lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect();
    body.join("\n").trim_matches('\n').to_string()
}

/// `%labels` lines: `KEY value…`.
pub fn labels(section: &str) -> BTreeMap<String, String> {
    section
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once(char::is_whitespace) {
            Some((k, v)) => (k.to_string(), v.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

/// A JSON labels object; non-string values are kept as their JSON text. `None` when the
/// object is not a JSON object.
pub fn json_labels(text: &str) -> Option<BTreeMap<String, String>> {
    let value: serde_json::Value = serde_json::from_str(text.trim()).ok()?;
    let map = value.as_object()?;
    Some(
        map.iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), v)
            })
            .collect(),
    )
}

/// The `Labels` of an OCI image config (`{"Labels":…}` or `{"config":{"Labels":…}}`).
pub fn oci_config_labels(text: &str) -> Option<BTreeMap<String, String>> {
    let value: serde_json::Value = serde_json::from_str(text.trim()).ok()?;
    let labels = value
        .get("Labels")
        .or_else(|| value.get("config").and_then(|c| c.get("Labels")))?;
    json_labels(&labels.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_labels() {
        let def = "Bootstrap: docker\nFrom: alpine\n\n%labels\n    Author A B\n    V 1\n\n%runscript\n    echo hi\n    echo there\n%post\n  apk add x\n";
        let s = sections(def);
        assert_eq!(s["runscript"], "echo hi\necho there");
        assert_eq!(s["post"], "apk add x");
        let l = labels(&s["labels"]);
        assert_eq!(l["Author"], "A B");
        assert_eq!(l["V"], "1");
        assert_eq!(
            json_labels(r#"{"a":"b","n":1}"#).unwrap()["n"],
            "1".to_string()
        );
        assert!(json_labels("[1]").is_none());
        let oci = r#"{"config":{"Env":["A=1"],"Labels":{"org.opencontainers.image.title":"t"}}}"#;
        assert_eq!(
            oci_config_labels(oci).unwrap()["org.opencontainers.image.title"],
            "t"
        );
        assert_eq!(
            oci_config_labels(r#"{"Labels":{"a":"b"}}"#).unwrap()["a"],
            "b"
        );
        assert!(oci_config_labels(r#"{"Labels":null}"#).is_none());
    }
}
