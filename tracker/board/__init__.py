"""The lobby board: what a pickup point's board shows (``queries``) and its pages (``views``);
its JSON is served by ``tracker.api``."""
