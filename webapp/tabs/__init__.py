"""Tabs in the layout the app is moving to: one module per tab, `build(ctx)` lays out and
wires, the handlers are module-level functions with plain inputs and outputs (tested
directly), figures come from webapp/views/<name>.py and strings from webapp/strings/<name>.py."""
