// Generates the IAB TCF and GPP test strings that Consentry's decoders
// (internal/tcf, internal/gpp) and policy tests (internal/policy) use, with
// the IAB's own reference libraries: @iabgpp/cmpapi (IAB Tech Lab's GPP
// CMP API and encoder) and @iabtechlabtcf/core (IAB Tech Lab's TCF encoder).
// Both are pinned in package.json / package-lock.json.
//
//   cd scripts/iab-vectors && npm ci && node generate.js
//
// writes internal/gpp/testdata/iab-gpp-vectors.json and
// internal/tcf/testdata/iab-tcf-vectors.json. The output is deterministic;
// TestIABVectorsUpToDate (internal/gpp) runs this script and fails when the
// committed files differ from what it writes. Each vector carries the
// string and the fields the reference library decodes from it, so the Go
// tests compare Consentry's decoders with the IAB's, field by field.
"use strict";

const fs = require("fs");
const path = require("path");
const gpp = require("@iabgpp/cmpapi");
const tcf = require("@iabtechlabtcf/core");

// IAB_VECTORS_OUT redirects the output (TestIABVectorsUpToDate writes to a
// temporary directory and compares).
const root = process.env.IAB_VECTORS_OUT || path.resolve(__dirname, "..", "..");

// ---------------------------------------------------------------- GPP ----

// The section registry of the reference library, ids and names.
const sections = [...gpp.Sections.SECTION_ID_NAME_MAP.entries()].map(([id, name]) => ({ id, name }));
const usSections = sections.filter((s) => s.name.startsWith("us") && s.name !== "uspv1");

// fieldsOf lists a section's encoded fields (core segment first) with their
// defaults, read from a fresh section object of the library.
function fieldsOf(name) {
  const cls = Object.values(gpp).find((c) => c && c.NAME === name && typeof c === "function");
  const sec = new cls();
  const out = [];
  for (const seg of sec.initializeSegments()) {
    for (const fn of seg.getFieldNames()) {
      const f = seg.fields.get(fn);
      out.push({ segment: seg.constructor.name, name: fn, value: f.getValue() });
    }
  }
  return out;
}

function model(values) {
  const m = new gpp.GppModel();
  for (const [section, fields] of Object.entries(values)) {
    for (const [k, v] of Object.entries(fields)) {
      m.setFieldValue(section, k, v);
    }
  }
  return m;
}

// decoded returns what the reference library decodes from a GPP string, per
// section name.
function decoded(s) {
  return new gpp.GppModel(s).toObject();
}

const has = (fields, n) => fields.some((f) => f.name === n);
const listLen = (fields, n) => {
  const f = fields.find((x) => x.name === n);
  return f && Array.isArray(f.value) ? f.value.length : 0;
};

const noticeFields = [
  "SharingNotice", "SaleOptOutNotice", "SharingOptOutNotice", "TargetedAdvertisingOptOutNotice",
  "SensitiveDataProcessingOptOutNotice", "SensitiveDataLimitUseNotice", "SensitiveDataOptOutNotice", "ProcessingNotice",
];
const optOutFields = ["SaleOptOut", "SharingOptOut", "TargetedAdvertisingOptOut"];
const consentFields = ["PersonalDataConsents", "AdditionalDataProcessingConsent"];

// second is the name of the optional second sub-section's "included" flag.
function secondSegment(name) {
  const f = fieldsOf(name);
  if (has(f, "Gpc")) return "GpcSegmentIncluded";
  if (f.some((x) => x.segment.endsWith("SensitiveDataConsentSegment"))) return "SensitiveDataConsentSegmentIncluded";
  return "";
}

function usVectors(sec) {
  const { id, name } = sec;
  const fields = fieldsOf(name);
  const out = [];
  const add = (label, values, description) => {
    const m = model({ [name]: values });
    const str = m.encode();
    out.push({
      name: name + "/" + label,
      description,
      section_id: id,
      section: name,
      gpp: str,
      section_string: m.encodeSection(name),
      fields: decoded(str)[name],
    });
  };
  const notices = (v) => Object.fromEntries(noticeFields.filter((n) => has(fields, n)).map((n) => [n, v]));
  const optOuts = (v) => Object.fromEntries(optOutFields.filter((n) => has(fields, n)).map((n) => [n, v]));

  add("defaults", { SaleOptOutNotice: 0 }, "every field at the library's default (MspaCoveredTransaction 1, the rest 0)");
  add("did_not_opt_out", { ...notices(1), ...optOuts(2) }, "notices provided, no opt-out");
  add("opted_out", { ...notices(1), ...optOuts(1) }, "notices provided, every opt-out field opted out");
  for (const f of optOutFields.filter((n) => has(fields, n))) {
    add("only_" + f, { ...notices(1), ...optOuts(2), [f]: 1 }, "only " + f + " opted out");
  }
  const refused = {};
  const sdp = listLen(fields, "SensitiveDataProcessing");
  if (sdp > 0) refused.SensitiveDataProcessing = Array.from({ length: sdp }, (_, i) => (i === 0 ? 1 : 2));
  const kc = listLen(fields, "KnownChildSensitiveDataConsents");
  if (kc > 0) refused.KnownChildSensitiveDataConsents = Array.from({ length: kc }, () => 2);
  for (const f of consentFields.filter((n) => has(fields, n))) refused[f] = 2;
  if (sdp > 0) {
    const v = { ...notices(1), ...optOuts(2), ...refused };
    if (secondSegment(name) === "SensitiveDataConsentSegmentIncluded") v.SensitiveDataConsentSegmentIncluded = true;
    add("sensitive_refused", v, "SensitiveDataProcessing[0] = 1 (no consent, or opted out where the state's law is an opt-out)");
  }
  if (kc > 0) {
    add("child_no_consent", { ...notices(1), ...optOuts(2), KnownChildSensitiveDataConsents: Array.from({ length: kc }, () => 1) },
      "KnownChildSensitiveDataConsents all 1 (no consent)");
  } else if (has(fields, "KnownChildSensitiveDataConsents")) {
    add("child_no_consent", { ...notices(1), ...optOuts(2), KnownChildSensitiveDataConsents: 1 }, "KnownChildSensitiveDataConsents 1 (no consent)");
  }
  for (const f of consentFields.filter((n) => has(fields, n))) {
    add("no_" + f, { ...notices(1), ...optOuts(2), [f]: 1 }, f + " 1 (no consent)");
  }
  const mspa = has(fields, "MspaMode")
    ? { MspaCoveredTransaction: 2, MspaMode: 2 }
    : { MspaCoveredTransaction: 2, MspaOptOutOptionMode: 2, MspaServiceProviderMode: 1 };
  add("mspa", { ...notices(2), ...optOuts(0), ...mspa }, "not an MSPA covered transaction, service provider mode");
  switch (secondSegment(name)) {
    case "GpcSegmentIncluded":
      add("gpc_true", { ...notices(1), ...optOuts(2), GpcSegmentIncluded: true, Gpc: true }, "GPC sub-section, Gpc true; no opt-out field set");
      add("gpc_false", { ...notices(1), ...optOuts(2), GpcSegmentIncluded: true, Gpc: false }, "GPC sub-section, Gpc false");
      break;
    case "SensitiveDataConsentSegmentIncluded":
      add("sensitive_segment", { ...notices(1), ...optOuts(2), SensitiveDataConsentSegmentIncluded: true, SensitiveDataProcessing: [2, 2, 2, 2, 2, 2, 2, 2] },
        "sensitive data consent sub-section present, every category consented");
      break;
  }
  if (name === "usnat") {
    add("version1", { Version: 1, ...notices(1), ...optOuts(2), SaleOptOut: 1 }, "usnat Version 1 (12 sensitive categories, 2 child entries)");
  }
  return out;
}

function uspVectors() {
  const out = [];
  const vals = ["Y", "N", "-"];
  for (const notice of vals) {
    for (const optOut of vals) {
      for (const lspa of vals) {
        const m = model({ uspv1: { Notice: notice, OptOutSale: optOut, LspaCovered: lspa } });
        const str = m.encode();
        out.push({
          name: `uspv1/${notice}${optOut}${lspa}`,
          section_id: 6,
          section: "uspv1",
          gpp: str,
          section_string: m.encodeSection("uspv1"),
          fields: decoded(str).uspv1,
        });
      }
    }
  }
  return out;
}

function combinedVectors() {
  const tc = tcfModel({});
  const tcString = tcf.TCString.encode(tc);
  const combos = [
    ["usnat_usca_uspv1", { usnat: { SaleOptOutNotice: 1, SaleOptOut: 2, SharingOptOutNotice: 1, SharingOptOut: 2 }, usca: { SaleOptOutNotice: 1, SaleOptOut: 1 }, uspv1: { Notice: "Y", OptOutSale: "N", LspaCovered: "N" } }],
    ["every_state_one_opt_out", { usnat: { SaleOptOutNotice: 1, SaleOptOut: 2 }, ustx: { SaleOptOutNotice: 1, SaleOptOut: 2, TargetedAdvertisingOptOutNotice: 1, TargetedAdvertisingOptOut: 1 }, usri: { SaleOptOutNotice: 1, SaleOptOut: 2 } }],
  ];
  const out = combos.map(([label, values]) => {
    const s = model(values).encode();
    return { name: "combined/" + label, gpp: s, sections: decoded(s) };
  });
  // With the EU TCF section, as a CMP serving both regions writes it.
  const m = model({ usca: { SaleOptOutNotice: 1, SaleOptOut: 2 } });
  m.decodeSection("tcfeuv2", tcString);
  const s = m.encode();
  out.push({ name: "combined/tcfeuv2_usca", gpp: s, tcfeuv2: m.encodeSection("tcfeuv2"), sections: { usca: decoded(s).usca } });
  return out;
}

// unknownSectionVectors: strings holding a section Consentry does not
// decode (the Canadian TCF, section 5), alone and beside a US section; the
// policy reads them as signal_unmapped. The library stamps the Canadian
// section's Created and LastUpdated with the current time unless set.
function unknownSectionVectors() {
  const tcfca = { CmpId: 10, CmpVersion: 2, ConsentScreen: 1, Created: day(2025, 1, 15), LastUpdated: day(2025, 2, 1) };
  const combos = [
    ["tcfcav1_usnat", { tcfcav1: tcfca, usnat: { SaleOptOutNotice: 1, SaleOptOut: 2 } }],
    ["tcfcav1", { tcfcav1: tcfca }],
  ];
  return combos.map(([label, values]) => {
    const s = model(values).encode();
    return { name: "unknown/" + label, gpp: s, section_ids: new gpp.GppModel(s).getSectionIds(), undecoded_section_ids: [5] };
  });
}

// ---------------------------------------------------------------- TCF ----

// A small Global Vendor List: the encoder needs one. Vendor 755 declares
// purposes 2, 7, 9 and 10 flexible, so publisher restrictions apply to it.
function gvlJSON(policyVersion) {
  const purposes = {};
  for (let i = 1; i <= 11; i++) purposes[i] = { id: i, name: "Purpose " + i, description: "", illustrations: [] };
  const vendor = (id, p, li, flex) => ({
    id, name: "Vendor " + id, purposes: p, legIntPurposes: li, flexiblePurposes: flex, specialPurposes: [1], features: [],
    specialFeatures: [], cookieMaxAgeSeconds: 0, usesCookies: false, usesNonCookieAccess: false, deviceStorageDisclosureUrl: "",
    dataRetention: { stdRetention: 0, purposes: {}, specialPurposes: {} }, urls: [], dataDeclaration: [],
  });
  return {
    gvlSpecificationVersion: 3, vendorListVersion: 300, tcfPolicyVersion: policyVersion, lastUpdated: "2025-01-01T00:00:00Z", purposes,
    specialPurposes: { 1: { id: 1, name: "Security", description: "" } }, features: {},
    specialFeatures: { 1: { id: 1, name: "Geolocation", description: "" }, 2: { id: 2, name: "Device scan", description: "" } },
    stacks: {}, dataCategories: {},
    vendors: {
      5: vendor(5, [1, 2, 7, 8], [10], [2, 7, 8]),
      755: vendor(755, [1, 2, 3, 4, 7], [9, 10], [2, 7, 9, 10]),
      1000: vendor(1000, [1, 10], [], []),
    },
  };
}

const day = (y, m, d) => new Date(Date.UTC(y, m - 1, d));

function tcfModel(opt) {
  // The encoder takes the policy version from the vendor list.
  const m = new tcf.TCModel(new tcf.GVL(gvlJSON(opt.policyVersion !== undefined ? opt.policyVersion : 5)));
  m.cmpId = 10;
  m.cmpVersion = 2;
  m.consentScreen = 1;
  m.publisherCountryCode = "DE";
  m.isServiceSpecific = opt.isServiceSpecific !== undefined ? opt.isServiceSpecific : true;
  m.created = opt.created || day(2025, 1, 15);
  m.lastUpdated = opt.lastUpdated || day(2025, 2, 1);
  m.purposeConsents.set(opt.purposeConsents || [1, 2, 7, 8, 10]);
  m.purposeLegitimateInterests.set(opt.purposeLI || [9, 10]);
  m.vendorConsents.set(opt.vendorConsents || [5, 755, 1000]);
  m.vendorLegitimateInterests.set(opt.vendorLI || [755]);
  for (const [vendor, purpose, type] of opt.restrictions || []) {
    m.publisherRestrictions.add(vendor, new tcf.PurposeRestriction(purpose, type));
  }
  m.vendorsDisclosed.set(opt.disclosed || [5, 755, 1000]);
  return m;
}

function tcfDecoded(s) {
  const d = tcf.TCString.decode(s);
  const ids = (v) => [...v.values()].sort((a, b) => a - b);
  const restrictions = [];
  for (const pr of d.publisherRestrictions.getRestrictions()) {
    restrictions.push({ purpose: pr.purposeId, type: pr.restrictionType, vendors: d.publisherRestrictions.getVendors(pr).sort((a, b) => a - b) });
  }
  restrictions.sort((a, b) => a.purpose - b.purpose || a.type - b.type);
  return {
    version: d.version,
    created: d.created.toISOString(),
    last_updated: d.lastUpdated.toISOString(),
    cmp_id: d.cmpId,
    cmp_version: d.cmpVersion,
    consent_screen: d.consentScreen,
    consent_language: d.consentLanguage,
    vendor_list_version: d.vendorListVersion,
    policy_version: d.policyVersion,
    is_service_specific: d.isServiceSpecific,
    use_non_standard_texts: d.useNonStandardTexts,
    purpose_one_treatment: d.purposeOneTreatment,
    publisher_country_code: d.publisherCountryCode,
    purpose_consents: ids(d.purposeConsents),
    purpose_legitimate_interests: ids(d.purposeLegitimateInterests),
    special_feature_optins: ids(d.specialFeatureOptins),
    vendor_consents: ids(d.vendorConsents),
    vendor_legitimate_interests: ids(d.vendorLegitimateInterests),
    publisher_restrictions: restrictions,
    vendors_disclosed: ids(d.vendorsDisclosed),
  };
}

function tcfVectors() {
  const R = tcf.RestrictionType;
  const cases = [
    ["v2.3", "policy version 5 (TCF v2.3), with the Disclosed Vendors segment", {}, true],
    ["v2.2", "policy version 4 (TCF v2.2)", { policyVersion: 4 }, true],
    ["v2.0", "policy version 2 (TCF v2.0: before v2.2, refused by default)", { policyVersion: 2 }, false],
    ["not_service_specific", "IsServiceSpecific 0 (invalid since v2.2)", { isServiceSpecific: false }, true],
    ["no_disclosed_vendors", "without the Disclosed Vendors segment", {}, false],
    ["disclosed_without_755", "vendor 755 not disclosed to the user", { disclosed: [5, 1000] }, true],
    ["restriction_not_allowed", "publisher restriction: purpose 2 not allowed for vendor 755", { restrictions: [[755, 2, R.NOT_ALLOWED]] }, true],
    ["restriction_require_consent", "publisher restriction: purpose 10 requires consent for vendor 755 (LI not accepted)",
      { restrictions: [[755, 10, R.REQUIRE_CONSENT]], purposeConsents: [1, 2, 7], purposeLI: [9, 10] }, true],
    ["restriction_require_li", "publisher restriction: purpose 7 requires legitimate interest for vendor 755 (consent not accepted)",
      { restrictions: [[755, 7, R.REQUIRE_LI]], purposeLI: [7, 9, 10] }, true],
    ["li_only", "no purpose consent at all, legitimate interest for 2, 7, 8, 9, 10", { purposeConsents: [], purposeLI: [2, 7, 8, 9, 10], vendorConsents: [], vendorLI: [5, 755] }, true],
    ["no_vendor_consent_755", "purposes consented, vendor 755 without vendor consent", { vendorConsents: [5, 1000], vendorLI: [] }, true],
    ["updated_2025_06_30", "created 2025-06-01, last updated 2025-06-30", { created: day(2025, 6, 1), lastUpdated: day(2025, 6, 30) }, true],
    ["updated_2023_01_10", "created and last updated 2023-01-10 (old)", { created: day(2023, 1, 10), lastUpdated: day(2023, 1, 10) }, true],
  ];
  return cases.map(([label, description, opt, disclosed]) => {
    const m = tcfModel(opt);
    const segments = [tcf.Segment.CORE];
    if (disclosed) segments.push(tcf.Segment.VENDORS_DISCLOSED);
    const s = tcf.TCString.encode(m, { segments });
    return { name: label, description, tc_string: s, fields: tcfDecoded(s) };
  });
}

// ------------------------------------------------------------- output ----

function write(rel, obj) {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(obj, null, 2) + "\n");
  console.log("wrote " + rel);
}

const pkg = (name) => JSON.parse(fs.readFileSync(path.join(__dirname, "node_modules", name, "package.json"), "utf8")).version;

write("internal/gpp/testdata/iab-gpp-vectors.json", {
  generator: "scripts/iab-vectors/generate.js",
  library: "@iabgpp/cmpapi " + pkg("@iabgpp/cmpapi"),
  sections,
  layouts: usSections.map((s) => ({ ...s, fields: fieldsOf(s.name).map((f) => ({ segment: f.segment, name: f.name, default: f.value })) })),
  us: usSections.flatMap(usVectors),
  uspv1: uspVectors(),
  combined: combinedVectors(),
  unknown_sections: unknownSectionVectors(),
});
write("internal/tcf/testdata/iab-tcf-vectors.json", {
  generator: "scripts/iab-vectors/generate.js",
  library: "@iabtechlabtcf/core " + pkg("@iabtechlabtcf/core"),
  vectors: tcfVectors(),
});
