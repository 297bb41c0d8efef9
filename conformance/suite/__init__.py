"""The suite's pytest modules: one per feature row, each parametrised over the row's checks.

They are run by ``conformance run`` (or ``pytest -p conformance.plugin --pyargs conformance.suite``);
the plugin supplies the ``conformance_check`` fixture that judges one check.
"""
