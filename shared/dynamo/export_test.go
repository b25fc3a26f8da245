package dynamo

// RawDB is the store's client, for tests that read an item's attributes as
// stored (its TTL, its kind).
func (s *Store) RawDB() DB { return s.shared.db }
