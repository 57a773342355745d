package ccaas

// Record attributes the segment receiver adds to the shared set.
const (
	// AttrConsentCategoriesPresent is true when the event carried a Segment
	// context.consent.categoryPreferences object, even an empty one: Segment
	// treats every category missing from a present object as not consented,
	// and no object at all as "no consent information".
	AttrConsentCategoriesPresent = "ccaas.consent.categories_present" // bool
)
