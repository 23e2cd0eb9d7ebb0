"""Test support code: the throwaway PostgreSQL cluster and other harness pieces."""
