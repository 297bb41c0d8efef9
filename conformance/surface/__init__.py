"""The API surface: every request parameter and response field of the endpoints the suite covers.

``derive`` reads OpenAI's published OpenAPI document into members (one per path into a body, with
type, allowed values, bounds and unit); ``sdks`` reads the request parameters the official clients
declare; ``catalogue`` loads the derived file the suite ships (``schemas/surface.json``);
``judged`` says which checks judge each top-level parameter, or why none does; ``values`` holds what
the parameter sweep sends; ``coverage`` measures a report against the catalogue. Nothing here talks
HTTP or imports the checks: the checks, the reference server and the report read it.
"""
