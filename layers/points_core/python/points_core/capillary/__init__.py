"""The Capillary wire format: request bodies, response models, the envelopes, their rendering as JSON, and
each endpoint's view of a service outcome. A second rendering (XML) belongs next to `json_renderer`."""
