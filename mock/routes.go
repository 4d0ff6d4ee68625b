package mock

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	"github.com/msgmock/msgmock/scenarios"
)

// routes lists msgmock's whole HTTP surface.
//
// The router cleans no path and redirects nothing: neither real service
// does, so `//api/v1/messages` or `/api` get the API's own 404 rather than
// a redirect. Paths are matched escaped, so an id may hold an encoded slash.
func (s *Server) routes() http.Handler { return s.dispatch(s.router()) }

// router is the route table itself.
func (s *Server) router() *mux.Router {
	root := mux.NewRouter().SkipClean(true).UseEncodedPath()

	// Conversations API (seed 000).
	a := s.group(root, "/v1", conversationsSurface)
	a.handle("/messages", s.handleSendA(), http.MethodPost)
	a.handle("/conversations/{id}/messages", s.handleConversationMessagesA(), http.MethodGet)
	a.handle("/events", s.handleEventsA(), http.MethodGet)
	a.handle("/events/stream", s.handleStream(scenarios.APIConversations), http.MethodGet)

	// Workspace Messages API (seed 001).
	b := s.group(root, "/api/v1", workspaceSurface)
	b.handle("/messages", s.handleCreateB(), http.MethodPost)
	b.handle("/messages", s.handleListB(), http.MethodGet)
	b.handle("/messages/{message_id}", s.handleGetB(), http.MethodGet)
	b.handle("/conversations", s.handleConversationsB(), http.MethodGet)
	b.handle("/events/stream", s.handleStream(scenarios.APIWorkspace), http.MethodGet)

	// Admin API.
	adm := s.group(root, "/__mock", adminSurface)
	adm.handle("/health", s.handleHealth(), http.MethodGet)
	adm.handle("/status", s.handleStatus(), http.MethodGet)
	adm.handle("/scenario", s.handleSetScenario(), http.MethodPut)
	adm.handle("/scenarios", s.handleListScenarios(), http.MethodGet)
	adm.handle("/scenarios/{name}", s.handlePutScenario(), http.MethodPut)
	adm.handle("/scenarios/{name}", s.handleGetScenario(), http.MethodGet)
	adm.handle("/scenarios/{name}", s.handleDeleteScenario(), http.MethodDelete)
	adm.handle("/reset", s.handleReset(), http.MethodPost)
	adm.handle("/requests", s.handleRequests(), http.MethodGet)
	adm.handle("/requests", s.handleClearRequests(), http.MethodDelete)
	adm.handle("/webhooks/deliveries", s.handleDeliveries(), http.MethodGet)
	adm.handle("/clock", s.handleClock(), http.MethodGet, http.MethodPost)
	adm.handle("/requests/{id}", s.handleRequest(), http.MethodGet)
	adm.handle("/requests/{id}/body", s.handleRequestBody(), http.MethodGet)
	adm.handle("/sessions", s.handleSessions(), http.MethodGet)
	adm.handle("/conversations", s.handleConversations(), http.MethodGet)
	adm.handle("/events/stream", s.handleStream(apiAll), http.MethodGet)
	// The inspector's page and files hold no data: they load without the
	// admin token, and the page asks for it when the API answers 401.
	page := adm.with(inspectorSurface)
	page.handle("/openapi/{name}.json", s.handleOpenAPI(), http.MethodGet)
	page.handle("/schema/fixtures.json", s.handleFixturesSchema(), http.MethodGet)
	page.handle("", s.handleInspectorRedirect(), http.MethodGet)
	page.handle("/", s.handleInspector(), http.MethodGet)
	page.handle("/inspector/{file}", s.handleInspector(), http.MethodGet)

	// Outside every group, the first path segment names the API whose 404
	// answers (`/api`, `//api/v1/messages`); anything else is the
	// Conversations API's, as the root of that service would answer.
	// The Workspace API's document where its FastAPI service serves it.
	root.Path("/openapi.json").Handler(s.surfaced(publicWorkspaceSurface, s.handleWorkspaceOpenAPI()))

	root.MatcherFunc(firstSegment("api")).Handler(s.surfaced(workspaceSurface, workspaceSurface.notFound))
	root.MatcherFunc(firstSegment("__mock")).Handler(s.surfaced(adminSurface, adminSurface.notFound))
	root.NotFoundHandler = s.surfaced(conversationsSurface, conversationsSurface.notFound)
	return root
}

// dispatch serves r with the handler root matches. It is mux.Router's
// ServeHTTP less two copies of the request: the route variables go on the
// exchange (a map it reuses) instead of into a new context.
//
// Routes without variables are also looked up in a table built from the
// router at start (path, then method): the same handler gorilla/mux would
// pick, without its regexp matching (two allocations and about half a
// microsecond per request). Anything else — a path with escapes, a
// variable, a method the path does not have — goes to the router.
func (s *Server) dispatch(root *mux.Router) http.Handler {
	static := staticRoutes(root)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ex := exchangeOf(w)
		if ex.vars == nil {
			ex.vars = make(map[string]string, 1)
		}
		clear(ex.vars)
		if r.URL.RawPath == "" {
			if h := static[r.URL.Path][r.Method]; h != nil {
				h.ServeHTTP(w, r)
				return
			}
		}
		match := mux.RouteMatch{Vars: ex.vars}
		root.Match(r, &match) // a NotFoundHandler is set, so there is always a handler
		match.Handler.ServeHTTP(w, r)
	})
}

// staticRoutes lists the router's routes that have no variables: path →
// method → handler, the first route registered winning as in the router.
func staticRoutes(root *mux.Router) map[string]map[string]http.Handler {
	out := map[string]map[string]http.Handler{}
	_ = root.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		methods, merr := route.GetMethods()
		h := route.GetHandler()
		if err != nil || merr != nil || h == nil || strings.ContainsAny(tpl, "{}") {
			return nil
		}
		if out[tpl] == nil {
			out[tpl] = map[string]http.Handler{}
		}
		for _, m := range methods {
			if out[tpl][m] == nil {
				out[tpl][m] = h
			}
		}
		return nil
	})
	return out
}

// A surface is one group of routes that answers in one API's shape: its 404,
// its 405, the 500 a panic becomes, and whether its requests are journaled.
type surface struct {
	api       scenarios.API // "" for the admin API
	journaled bool
	adminOnly bool // guarded by --admin-token
	// starlette routes as a FastAPI service does: GET does not serve HEAD,
	// a 405's Allow lists the methods of the first route for the path, and
	// a path that matches once its trailing slash is toggled answers 307
	// to it (redirect_slashes).
	starlette        bool
	notFound         http.HandlerFunc
	methodNotAllowed http.HandlerFunc // the Allow header is set before it runs
	internalError    http.HandlerFunc
}

var (
	conversationsSurface = &surface{
		api:       scenarios.APIConversations,
		journaled: true,
		notFound: func(w http.ResponseWriter, _ *http.Request) {
			writeEnvelopeError(w, http.StatusNotFound, msgResourceNotFound)
		},
		methodNotAllowed: func(w http.ResponseWriter, _ *http.Request) {
			writeEnvelopeError(w, http.StatusMethodNotAllowed, msgMethodNotAllowed)
		},
		internalError: func(w http.ResponseWriter, _ *http.Request) {
			writeEnvelopeError(w, http.StatusInternalServerError, msgEnqueueFailed)
		},
	}
	workspaceSurface = &surface{
		api:       scenarios.APIWorkspace,
		journaled: true,
		starlette: true,
		notFound:  func(w http.ResponseWriter, _ *http.Request) { writeDetail(w, http.StatusNotFound, "Not Found") },
		methodNotAllowed: func(w http.ResponseWriter, _ *http.Request) {
			writeDetail(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		},
		internalError: func(w http.ResponseWriter, _ *http.Request) {
			writeDetail(w, http.StatusInternalServerError, "Internal Server Error")
		},
	}
	adminSurface = &surface{
		adminOnly: true,
		notFound: func(w http.ResponseWriter, r *http.Request) {
			writeAdminError(w, http.StatusNotFound, "no admin endpoint "+r.URL.Path)
		},
		methodNotAllowed: func(w http.ResponseWriter, r *http.Request) {
			writeAdminError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed; allowed: "+w.Header().Get("Allow"))
		},
		internalError: func(w http.ResponseWriter, _ *http.Request) {
			writeAdminError(w, http.StatusInternalServerError, "internal error; see the server log")
		},
	}
)

// inspectorSurface is the admin surface without the admin token: the
// inspector's static files and the documents, which hold no data.
var inspectorSurface = func() *surface { sf := *adminSurface; sf.adminOnly = false; return &sf }()

// publicWorkspaceSurface answers /openapi.json as the Workspace API's
// service would, without a journal entry.
var publicWorkspaceSurface = func() *surface { sf := *workspaceSurface; sf.journaled = false; return &sf }()

// group is one surface's subrouter.
type group struct {
	s      *Server
	router *mux.Router
	sf     *surface
}

func (s *Server) group(root *mux.Router, prefix string, sf *surface) group {
	sub := root.PathPrefix(prefix).Subrouter()
	notFound := http.Handler(sf.notFound)
	allow := allowed
	if sf.starlette {
		notFound = redirectSlashes(sub, sf.notFound)
		allow = firstRouteMethods
	}
	sub.NotFoundHandler = s.surfaced(sf, notFound)
	sub.MethodNotAllowedHandler = s.surfaced(sf, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow(sub, r))
		sf.methodNotAllowed(w, r)
	}))
	return group{s: s, router: sub, sf: sf}
}

// with returns the group answering its routes as sf (its 404 and 405 stay the group's).
func (g group) with(sf *surface) group { g.sf = sf; return g }

// handle routes path (below the group's prefix) for methods; GET serves
// HEAD too, except on a Starlette surface.
func (g group) handle(path string, h http.Handler, methods ...string) {
	for _, m := range methods {
		if g.sf.starlette {
			break
		}
		if m == http.MethodGet {
			methods = append(methods, http.MethodHead)
			break
		}
	}
	g.router.Handle(path, g.s.surfaced(g.sf, h)).Methods(methods...)
}

// surfaced marks the request's exchange with its surface, for the journal
// and for the shape of a 500, and guards admin routes with the token.
func (s *Server) surfaced(sf *surface, h http.Handler) http.Handler {
	if sf.adminOnly {
		h = s.requireAdminToken(h)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		exchangeOf(w).surface = sf
		h.ServeHTTP(w, r)
	})
}

// routedMethods are the methods a 405's Allow header may list.
var routedMethods = []string{http.MethodDelete, http.MethodGet, http.MethodHead, http.MethodPatch, http.MethodPost, http.MethodPut}

// allowed lists, sorted, the methods router serves at r's path: what a 405
// puts in its Allow header. It runs only on the 405 path.
func allowed(router *mux.Router, r *http.Request) string {
	var list []string
	for _, m := range routedMethods {
		probe := r.Clone(r.Context())
		probe.Method = m
		var match mux.RouteMatch
		if router.Match(probe, &match) && match.MatchErr == nil {
			list = append(list, m)
		}
	}
	return strings.Join(list, ", ")
}

// firstRouteMethods is Starlette's Allow: the methods of the first route,
// in the order routes.go lists them, whose path matches r's.
func firstRouteMethods(router *mux.Router, r *http.Request) string {
	var allow string
	_ = router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		methods, err := route.GetMethods()
		if err != nil || len(methods) == 0 {
			return nil
		}
		probe := r.Clone(r.Context())
		probe.Method = methods[0]
		var match mux.RouteMatch
		if route.Match(probe, &match) && match.MatchErr == nil {
			allow = strings.Join(methods, ", ")
			return errStopWalk
		}
		return nil
	})
	return allow
}

var errStopWalk = errors.New("stop")

// redirectSlashes answers what no route matches as Starlette does: when
// the path with its trailing slash toggled matches a route (for any
// method), 307 to it, same query, with an empty body; else notFound.
func redirectSlashes(router *mux.Router, notFound http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		if strings.HasSuffix(path, "/") {
			path = strings.TrimSuffix(path, "/")
		} else {
			path += "/"
		}
		for _, m := range routedMethods {
			probe := r.Clone(r.Context())
			probe.Method = m
			probe.URL.Path, probe.URL.RawPath = path, ""
			var match mux.RouteMatch
			if path != "" && router.Match(probe, &match) && match.MatchErr == nil {
				scheme := "http"
				if r.TLS != nil {
					scheme = "https"
				}
				target := scheme + "://" + r.Host + probe.URL.EscapedPath()
				if r.URL.RawQuery != "" {
					target += "?" + r.URL.RawQuery
				}
				w.Header().Set("Location", target)
				w.Header().Set("Content-Length", "0")
				w.WriteHeader(http.StatusTemporaryRedirect)
				return
			}
		}
		notFound.ServeHTTP(w, r)
	})
}

// firstSegment matches paths whose first non-empty segment is name.
func firstSegment(name string) mux.MatcherFunc {
	return func(r *http.Request, _ *mux.RouteMatch) bool {
		p := strings.TrimLeft(r.URL.Path, "/")
		return p == name || strings.HasPrefix(p, name+"/")
	}
}

// pathVar returns a route variable, unescaped (routes match escaped paths).
func pathVar(w http.ResponseWriter, name string) string {
	v := exchangeOf(w).vars[name]
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}
