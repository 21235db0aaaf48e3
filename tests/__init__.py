"""EM Lab's tests: a package, so that test files import their helpers one way (``from tests.helpers import ...``)."""
