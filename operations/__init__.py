"""Running an installation: where its files live (storage migrate, storage check), later backups."""
