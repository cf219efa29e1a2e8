"""What the tests share: the backends (a throwaway PostgreSQL cluster), the in-process bot
harness, people's steps in chat, the console's sign-in, the crash storm. Test modules
import from here, never from one another or from ``bench/`` (design's tests layout,
ARCHITECTURE.md)."""
