//! Standard Webhooks signatures, through the specification's own library.

use standardwebhooks::Webhook;

/// The `webhook-signature` header for message `id` sent at `timestamp` (Unix seconds) with
/// `body`: one `v1,<base64 HMAC-SHA256>` per secret (the current one first, then a rotated-out
/// one during its grace period), space-separated, as the specification allows.
pub fn signature(
    secrets: &[String],
    id: &str,
    timestamp: i64,
    body: &str,
) -> Result<String, standardwebhooks::WebhookError> {
    let mut signatures = Vec::with_capacity(secrets.len());
    for secret in secrets {
        signatures.push(Webhook::new(secret)?.sign(id, timestamp, body.as_bytes())?);
    }
    Ok(signatures.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_specification_example_and_with_every_secret() {
        // The specification library's own test vector.
        let secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD".to_owned();
        let body = r#"{"email":"test@example.com","username":"test_user"}"#;
        let one = signature(
            std::slice::from_ref(&secret),
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1_649_367_553,
            body,
        )
        .unwrap();
        assert_eq!(one, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
        let two = signature(
            &[secret.clone(), secret],
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1_649_367_553,
            body,
        )
        .unwrap();
        assert_eq!(two, format!("{one} {one}"));
    }
}
