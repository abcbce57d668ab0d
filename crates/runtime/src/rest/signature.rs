//! KIP-507 request signatures: internal requests between workers (`POST
//! /connectors/{name}/tasks`, `PUT /connectors/{name}/fence`) carry an HMAC of their body, keyed
//! with the cluster's session key, in the `X-Connect-Authorization` header (base64) and name its
//! algorithm in `X-Connect-Request-Signature-Algorithm`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};

use crate::herder::RequestSignature;

/// The header holding the base64 signature.
pub const SIGNATURE_HEADER: &str = "X-Connect-Authorization";
/// The header naming the algorithm.
pub const SIGNATURE_ALGORITHM_HEADER: &str = "X-Connect-Request-Signature-Algorithm";
/// Java's default `inter.worker.signature.algorithm`.
pub const DEFAULT_SIGNATURE_ALGORITHM: &str = "HmacSHA256";

/// Why a request could not be signed or a signature read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The JVM's wording for a MAC algorithm it does not have.
    #[error("Algorithm {0} not available")]
    UnknownAlgorithm(String),
    /// The signature header is not base64.
    #[error("Illegal base64 signature: {0}")]
    InvalidBase64(String),
}

/// The HMAC of `body` keyed with `key`, for the JVM algorithm names Ferry supports.
fn mac(algorithm: &str, key: &[u8], body: &[u8]) -> Result<Vec<u8>, SignatureError> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], body: &[u8]) -> Vec<u8> {
        let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key)
            .expect("HMAC accepts keys of any length");
        mac.update(body);
        mac.finalize().into_bytes().to_vec()
    }
    // JVM algorithm names are case-insensitive.
    Ok(match algorithm.to_ascii_uppercase().as_str() {
        "HMACSHA1" => run::<Hmac<sha1::Sha1>>(key, body),
        "HMACSHA224" => run::<Hmac<sha2::Sha224>>(key, body),
        "HMACSHA256" => run::<Hmac<sha2::Sha256>>(key, body),
        "HMACSHA384" => run::<Hmac<sha2::Sha384>>(key, body),
        "HMACSHA512" => run::<Hmac<sha2::Sha512>>(key, body),
        _ => return Err(SignatureError::UnknownAlgorithm(algorithm.to_owned())),
    })
}

/// Whether Ferry can sign and verify with `algorithm`.
pub fn is_supported(algorithm: &str) -> bool {
    mac(algorithm, b"", b"").is_ok()
}

impl RequestSignature {
    /// Signs `body` with the session key `key`.
    ///
    /// ```
    /// use ferry_runtime::herder::RequestSignature;
    /// let signed = RequestSignature::sign(b"key", "HmacSHA256", b"[]".to_vec()).unwrap();
    /// assert!(signed.is_valid(b"key"));
    /// assert!(!signed.is_valid(b"other key"));
    /// ```
    pub fn sign(key: &[u8], algorithm: &str, body: Vec<u8>) -> Result<Self, SignatureError> {
        let signature = STANDARD.encode(mac(algorithm, key, &body)?);
        Ok(Self {
            algorithm: algorithm.to_owned(),
            signature,
            body,
        })
    }

    /// Reads the signature of a received request from its header values; `None` when either
    /// header is missing, as Java's `InternalRequestSignature.fromHeaders`.
    pub fn from_headers(
        algorithm: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<Option<Self>, SignatureError> {
        let (Some(algorithm), Some(signature)) = (algorithm, signature) else {
            return Ok(None);
        };
        mac(algorithm, b"", b"")?;
        STANDARD
            .decode(signature)
            .map_err(|e| SignatureError::InvalidBase64(e.to_string()))?;
        Ok(Some(Self {
            algorithm: algorithm.to_owned(),
            signature: signature.to_owned(),
            body: body.to_vec(),
        }))
    }

    /// Whether the signature is the HMAC of the body under `key`, compared in constant time.
    pub fn is_valid(&self, key: &[u8]) -> bool {
        let Ok(expected) = STANDARD.decode(&self.signature) else {
            return false;
        };
        let Ok(actual) = mac(&self.algorithm, key, &self.body) else {
            return false;
        };
        actual.len() == expected.len()
            && actual
                .iter()
                .zip(&expected)
                .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        // RFC 4231 test case 2.
        let signed = RequestSignature::sign(
            b"Jefe",
            "HmacSHA256",
            b"what do ya want for nothing?".to_vec(),
        )
        .unwrap();
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        let bytes = STANDARD.decode(&signed.signature).unwrap();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected);
        assert!(signed.is_valid(b"Jefe"));
    }

    #[test]
    fn headers_are_checked_as_java_does() {
        assert_eq!(
            RequestSignature::from_headers(None, Some("x"), b""),
            Ok(None)
        );
        assert_eq!(
            RequestSignature::from_headers(Some("HmacFoo"), Some("x"), b"")
                .unwrap_err()
                .to_string(),
            "Algorithm HmacFoo not available"
        );
        assert!(RequestSignature::from_headers(Some("HmacSHA256"), Some("!!"), b"").is_err());
        let signed = RequestSignature::sign(b"k", "hmacsha512", b"{}".to_vec()).unwrap();
        let read =
            RequestSignature::from_headers(Some("hmacsha512"), Some(&signed.signature), b"{}")
                .unwrap()
                .unwrap();
        assert!(read.is_valid(b"k"));
        let tampered = RequestSignature {
            body: b"{ }".to_vec(),
            ..read
        };
        assert!(!tampered.is_valid(b"k"));
        assert!(is_supported("HmacSHA1") && !is_supported("HmacMD5"));
    }
}
