//! A linear scan of a document's text before any parser sees it.
//!
//! async-graphql's parser (pest) recurses once per nesting level of list and
//! object literals and selection sets: 2,000 levels of `[[[…` overflowed the
//! stack of a tokio worker and aborted the process, whatever the limits
//! checked afterwards. Its token queue also grows with the token count. This
//! scan runs first, in one pass and constant stack, and refuses a document
//! - longer than `max_bytes`;
//! - nesting `{`, `[` and `(` (together) deeper than `max_nesting`;
//! - with more than `max_tokens` tokens (names, numbers, strings, punctuators;
//!   commas are insignificant and not counted);
//! - with a name longer than [`MAX_NAME_BYTES`] (error messages quote names).
//!
//! Strings, block strings and comments are skipped, so brackets inside them do
//! not count. The scan does not validate: whatever it lets through, the parser
//! still judges; an unterminated string simply ends the scan.

/// Longest name (field, alias, argument, variable, fragment, directive) accepted.
pub(super) const MAX_NAME_BYTES: usize = 1024;

/// Bounds on a document's text (`AUDITLOG_MAX_DOCUMENT_*`, `AUDITLOG_MAX_NESTING`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DocumentLimits {
    pub max_bytes: usize,
    pub max_tokens: usize,
    pub max_nesting: usize,
}

/// Why a document was refused; `Display` is the client's message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ScanRefusal {
    #[error("the document is longer than {0} bytes (AUDITLOG_MAX_DOCUMENT_BYTES)")]
    Bytes(usize),
    #[error("the document has more than {0} tokens (AUDITLOG_MAX_DOCUMENT_TOKENS)")]
    Tokens(usize),
    #[error(
        "the document nests braces, brackets and parentheses deeper than {0} (AUDITLOG_MAX_NESTING)"
    )]
    Nesting(usize),
    #[error("the document has a name longer than {MAX_NAME_BYTES} bytes")]
    Name,
}

/// Checks `text` against `limits`; stops at the first bound passed.
pub(crate) fn scan(text: &str, limits: &DocumentLimits) -> Result<(), ScanRefusal> {
    if text.len() > limits.max_bytes {
        return Err(ScanRefusal::Bytes(limits.max_bytes));
    }
    let bytes = text.as_bytes();
    let mut at = 0;
    let mut depth = 0usize;
    let mut tokens = 0usize;
    while at < bytes.len() {
        let byte = bytes[at];
        // Whitespace, commas and the byte order mark are ignored tokens.
        if byte.is_ascii_whitespace() || byte == b',' {
            at += 1;
            continue;
        }
        tokens += 1;
        if tokens > limits.max_tokens {
            return Err(ScanRefusal::Tokens(limits.max_tokens));
        }
        at = match byte {
            b'#' => {
                // A comment is no token.
                tokens -= 1;
                skip_comment(bytes, at)
            }
            b'"' if bytes[at..].starts_with(b"\"\"\"") => skip_block_string(bytes, at + 3),
            b'"' => skip_string(bytes, at + 1),
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > limits.max_nesting {
                    return Err(ScanRefusal::Nesting(limits.max_nesting));
                }
                at + 1
            }
            b'}' | b']' | b')' => {
                depth = depth.saturating_sub(1);
                at + 1
            }
            b'.' if bytes[at..].starts_with(b"...") => at + 3,
            byte if is_name_byte(byte) => {
                let end = skip_name(bytes, at);
                if end - at > MAX_NAME_BYTES {
                    return Err(ScanRefusal::Name);
                }
                end
            }
            // Any other punctuator (or a byte the parser will refuse).
            _ => at + 1,
        };
    }
    Ok(())
}

/// Whether any list or object in `variables` nests deeper than `max_nesting`
/// (the variables object itself is level 0). Walked with an explicit stack.
/// serde_json already refuses JSON nested deeper than 128 while parsing; this
/// bound makes variables obey the same documented limit as the document.
pub(super) fn variables_too_deep(variables: &async_graphql::Variables, max_nesting: usize) -> bool {
    use async_graphql::Value;
    let mut pending: Vec<(&Value, usize)> = variables.values().map(|value| (value, 1)).collect();
    while let Some((value, depth)) = pending.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::List(items) => Box::new(items.iter()),
            Value::Object(fields) => Box::new(fields.values()),
            _ => continue,
        };
        if depth > max_nesting {
            return true;
        }
        pending.extend(children.map(|child| (child, depth + 1)));
    }
    false
}

/// Names, numbers and the letters of keywords: one token per run. (`-`, `+`
/// and `.` in numbers count as tokens of their own: an over-count is harmless.)
fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

fn skip_name(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && is_name_byte(bytes[at]) {
        at += 1;
    }
    at
}

fn skip_comment(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && bytes[at] != b'\n' && bytes[at] != b'\r' {
        at += 1;
    }
    at
}

/// From just after the opening quote to just after the closing one (or a line
/// end, where the parser will refuse the unterminated string).
fn skip_string(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return at + 1,
            b'\n' | b'\r' => return at,
            _ => at += 1,
        }
    }
    bytes.len()
}

/// From just after `"""` to just after the closing `"""`; `\"""` is escaped.
fn skip_block_string(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() {
        if bytes[at..].starts_with(b"\\\"\"\"") {
            at += 4;
        } else if bytes[at..].starts_with(b"\"\"\"") {
            return at + 3;
        } else {
            at += 1;
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: DocumentLimits = DocumentLimits {
        max_bytes: 10_000,
        max_tokens: 100,
        max_nesting: 8,
    };

    #[test]
    fn counts_nesting_of_every_bracket_kind() {
        assert_eq!(scan("{ a(b: [[{c: 1}]]) { d } }", &LIMITS), Ok(()));
        let deep = format!("{{ a(id: {}1{}) }}", "[".repeat(7), "]".repeat(7));
        assert_eq!(scan(&deep, &LIMITS), Err(ScanRefusal::Nesting(8)));
        let objects = format!("{{ a(x: {}) }}", "{a:".repeat(20));
        assert_eq!(scan(&objects, &LIMITS), Err(ScanRefusal::Nesting(8)));
    }

    #[test]
    fn skips_strings_block_strings_and_comments() {
        let text = "{ a(s: \"[[[[[[[[[[\\\"[[[[\", t: \"\"\"[[[[[[[[[[\\\"\"\"[[[[\"\"\") # [[[[[[[[[[\n }";
        assert_eq!(scan(text, &LIMITS), Ok(()));
    }

    #[test]
    fn counts_tokens_but_not_commas_or_comments() {
        let many = format!("{{ {} }}", "a ".repeat(99));
        assert_eq!(scan(&many, &LIMITS), Err(ScanRefusal::Tokens(100)));
        let commas = format!("{{ a{} }}", ",".repeat(5000));
        assert_eq!(scan(&commas, &LIMITS), Ok(()));
        let comment = format!("{{ a }} # {}", "x ".repeat(500));
        assert_eq!(scan(&comment, &LIMITS), Ok(()));
    }

    #[test]
    fn refuses_long_documents_and_names() {
        assert_eq!(
            scan(&" ".repeat(10_001), &LIMITS),
            Err(ScanRefusal::Bytes(10_000))
        );
        let name = format!("{{ {} }}", "a".repeat(MAX_NAME_BYTES + 1));
        assert_eq!(scan(&name, &LIMITS), Err(ScanRefusal::Name));
    }

    #[test]
    fn bounds_the_nesting_of_variables() {
        let mut value = async_graphql::Value::Null;
        for _ in 0..8 {
            value = async_graphql::Value::List(vec![value]);
        }
        let variables =
            |value| async_graphql::Variables::from_json(serde_json::json!({ "v": value }));
        let json = value.clone().into_json().unwrap_or_default();
        assert!(!variables_too_deep(&variables(json.clone()), 8));
        assert!(variables_too_deep(&variables(serde_json::json!([json])), 8));
    }

    #[test]
    fn unterminated_strings_end_the_scan() {
        assert_eq!(scan("{ a(s: \"[[[[[[[[[[[[", &LIMITS), Ok(()));
        assert_eq!(scan("{ a(s: \"\"\"[[[[[[[[[[[[", &LIMITS), Ok(()));
    }
}
