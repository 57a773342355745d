// Package subject derives pseudonymous subject keys from the identifiers contact-center
// telemetry carries (phone numbers, e-mail addresses, vendor and anonymous ids), so that consent
// can be stored and checked per person without keeping the identifier itself.
//
// An identifier is first brought to a canonical form by [Normalize] (or [Detect], when its type is
// unknown): phone numbers become E.164 via package phone, e-mail addresses are trimmed and
// lower-cased, opaque ids are trimmed. A [Keyer] then maps (type, canonical identifier) to
//
//	"sk1_" + hex(HMAC-SHA256(salt, type + ":" + canonical))[:32]
//
// e.g. "sk1_3f0c…" (36 characters, 128 bits of the HMAC). The same identifier written in any
// accepted way gives the same key, keys are stable across processes and restarts for a given
// salt, different salts give unrelated keys, and the type is part of the input so a phone number and
// an opaque id with the same spelling never collide. "sk1_" versions the scheme so keys can be
// rotated to a new salt or derivation later.
//
// Keys are pseudonyms under GDPR, not anonymous data: whoever holds the salt can test guesses,
// and phone numbers are a small, enumerable space. Keep the salt in a secret store, never log it, and
// treat keys as personal data. Errors from this package never contain the identifier.
//
// Data sources: none of its own; phone normalisation uses the NANPA and ITU-T derived tables of
// package github.com/consentry/consentry/internal/phone (see its data/README.md).
package subject
