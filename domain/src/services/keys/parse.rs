//! Reading OpenPGP public keys out of ASCII armour, with the `pgp` (rpgp) crate. Only what
//! the keyserver needs: identity, the facts an HKP index shows, and the key re-armoured.
use pgp::composed::{ArmorOptions, PublicOrSecret, SignedPublicKey};
use pgp::ser::Serialize;
use pgp::types::{KeyDetails, PublicParams, Tag};

use crate::error::{DomainError, Result};

/// Most keys accepted in one upload.
pub const MAX_KEYS_PER_UPLOAD: usize = 100;

/// One public key as the keyserver stores it.
#[derive(Clone, Debug)]
pub(crate) struct ParsedKey {
    pub fingerprint: String,
    pub key_id: String,
    pub algorithm: u8,
    pub bits: u16,
    pub created: u32,
    pub expires: Option<u32>,
    pub revoked: bool,
    /// User IDs with at least one valid self-signature.
    pub user_ids: Vec<String>,
    pub newest_signature: u32,
    pub armored: String,
}

/// Parses every key in `text`: one or more ASCII-armoured public key blocks. Secret keys,
/// other kinds of armour, keys without a self-signed user ID and unparsable data are refused
/// as invalid input.
pub(crate) fn parse_keys(text: &str) -> Result<Vec<ParsedKey>> {
    if text.contains("-----BEGIN PGP PRIVATE KEY BLOCK-----") {
        return Err(secret_refused());
    }
    let blocks = armor_blocks(text);
    if blocks.is_empty() {
        return Err(DomainError::invalid(
            "no ASCII-armoured public key block (-----BEGIN PGP PUBLIC KEY BLOCK-----) found",
        ));
    }
    let mut keys = Vec::new();
    for block in blocks {
        let (parsed, _headers) = PublicOrSecret::from_armor_many(block.as_bytes())
            .map_err(|e| DomainError::invalid(format!("malformed OpenPGP armour: {e}")))?;
        for item in parsed {
            let item =
                item.map_err(|e| DomainError::invalid(format!("malformed OpenPGP key: {e}")))?;
            let key = match item {
                PublicOrSecret::Public(key) => key,
                PublicOrSecret::Secret(_) => return Err(secret_refused()),
            };
            if keys.len() == MAX_KEYS_PER_UPLOAD {
                return Err(DomainError::invalid(format!(
                    "more than {MAX_KEYS_PER_UPLOAD} keys in one upload"
                )));
            }
            keys.push(describe(&key)?);
        }
    }
    if keys.is_empty() {
        return Err(DomainError::invalid("the armour holds no public key"));
    }
    Ok(keys)
}

fn secret_refused() -> DomainError {
    DomainError::invalid("secret (private) keys are refused: upload only your public key")
}

/// The `-----BEGIN PGP PUBLIC KEY BLOCK-----` … `-----END …-----` sections of `text`.
fn armor_blocks(text: &str) -> Vec<&str> {
    const BEGIN: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
    const END: &str = "-----END PGP PUBLIC KEY BLOCK-----";
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let from = &rest[start..];
        match from.find(END) {
            Some(end) => {
                blocks.push(&from[..end + END.len()]);
                rest = &from[end + END.len()..];
            }
            None => {
                // An unterminated block: let the parser report what is wrong with it.
                blocks.push(from);
                break;
            }
        }
    }
    blocks
}

fn describe(key: &SignedPublicKey) -> Result<ParsedKey> {
    let primary = &key.primary_key;
    let fingerprint = format!("{:X}", primary.fingerprint());
    let invalid = |what: &str| DomainError::invalid(format!("key {fingerprint}: {what}"));

    let mut newest = primary.created_at().as_secs();
    let mut note = |sig: &pgp::packet::Signature| {
        if let Some(t) = sig.created() {
            newest = newest.max(t.as_secs());
        }
    };
    let mut user_ids = Vec::new();
    let mut expires = None;
    let mut expiry_sig_time = 0;
    for user in &key.details.users {
        let mut self_signed = false;
        for sig in &user.signatures {
            note(sig);
            if sig
                .verify_certification(primary, Tag::UserId, &user.id)
                .is_ok()
            {
                self_signed = true;
                // The newest valid self-signature decides the key's expiry.
                let created = sig.created().map(|t| t.as_secs()).unwrap_or(0);
                if created >= expiry_sig_time {
                    expiry_sig_time = created;
                    expires = sig
                        .key_expiration_time()
                        .map(|d| d.as_secs())
                        .filter(|secs| *secs > 0)
                        .map(|secs| primary.created_at().as_secs().saturating_add(secs));
                }
            }
        }
        if self_signed {
            user_ids.push(String::from_utf8_lossy(user.id.id()).into_owned());
        }
    }
    if user_ids.is_empty() {
        return Err(invalid("no user ID carries a valid self-signature"));
    }
    for sig in key
        .details
        .direct_signatures
        .iter()
        .chain(&key.details.revocation_signatures)
    {
        note(sig);
    }
    for attr in &key.details.user_attributes {
        attr.signatures.iter().for_each(&mut note);
    }
    for sub in &key.public_subkeys {
        sub.signatures.iter().for_each(&mut note);
    }
    let revoked = key
        .details
        .revocation_signatures
        .iter()
        .any(|sig| sig.verify_key(primary).is_ok());
    let armored = key
        .to_armored_string(ArmorOptions::default())
        .map_err(|e| invalid(&format!("cannot be re-encoded: {e}")))?;
    Ok(ParsedKey {
        key_id: hex::encode_upper(primary.legacy_key_id().as_ref()),
        algorithm: primary.algorithm().into(),
        bits: key_bits(primary.public_params()),
        created: primary.created_at().as_secs(),
        expires,
        revoked,
        user_ids,
        newest_signature: newest,
        armored,
        fingerprint,
    })
}

/// The key size an index shows: modulus or prime size for RSA, DSA and Elgamal, the curve
/// size for elliptic-curve keys.
fn key_bits(params: &PublicParams) -> u16 {
    match params {
        PublicParams::RSA(_) | PublicParams::DSA(_) | PublicParams::Elgamal(_) => {
            // The first MPI (n or p) leads the encoding with its length in bits.
            match params.to_bytes() {
                Ok(bytes) if bytes.len() >= 2 => u16::from_be_bytes([bytes[0], bytes[1]]),
                _ => 0,
            }
        }
        PublicParams::ECDSA(p) => p.curve().nbits(),
        PublicParams::ECDH(p) => p.curve().nbits(),
        PublicParams::EdDSALegacy(p) => p.curve().nbits(),
        PublicParams::Ed25519(_) | PublicParams::X25519(_) => 255,
        PublicParams::Ed448(_) | PublicParams::X448(_) => 448,
        _ => 0,
    }
}
