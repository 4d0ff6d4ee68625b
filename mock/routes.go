package mock

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/msgmock/msgmock/mock/admin"
	"github.com/msgmock/msgmock/mock/conversations"
	"github.com/msgmock/msgmock/mock/wire"
	"github.com/msgmock/msgmock/mock/workspace"
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
	conv := s.conversations
	c := s.group(root, "/v1", conversationsSurface, under("/v1"))
	c.handle("/messages", conv.Send, http.MethodPost)
	c.handle("/conversations/{id}/messages", conv.Messages, http.MethodGet)
	c.handle("/events", conv.Events, http.MethodGet)
	c.handle("/events/stream", conv.Stream, http.MethodGet)

	// Workspace Messages API (seed 001).
	ws := s.workspace
	w := s.group(root, "/api/v1", workspaceSurface, under("/api/v1"))
	w.handle("/messages", ws.Create, http.MethodPost)
	w.handle("/messages", ws.List, http.MethodGet)
	w.handle("/messages/{message_id}", ws.Get, http.MethodGet)
	w.handle("/conversations", ws.Conversations, http.MethodGet)
	w.handle("/events/stream", ws.Stream, http.MethodGet)

	// Admin API, guarded by the admin token when one is set. Health says
	// only that msgmock answers: orchestrators' checks need no token.
	adm := s.admin
	a := s.group(root, "/__mock", adminSurface, under("/__mock"))
	a.handle("/health", adm.Health, http.MethodGet)
	a.handle("/status", adm.Guard(adm.Status), http.MethodGet)
	a.handle("/scenario", adm.Guard(adm.SetScenario), http.MethodPut)
	a.handle("/scenarios", adm.Guard(adm.ListScenarios), http.MethodGet)
	a.handle("/scenarios/{name}", adm.Guard(adm.PutScenario), http.MethodPut)
	a.handle("/scenarios/{name}", adm.Guard(adm.GetScenario), http.MethodGet)
	a.handle("/scenarios/{name}", adm.Guard(adm.DeleteScenario), http.MethodDelete)
	a.handle("/scenarios/{name}/usage", adm.Guard(adm.Usage), http.MethodGet)
	a.handle("/reset", adm.Guard(adm.Reset), http.MethodPost)
	a.handle("/requests", adm.Guard(adm.Requests), http.MethodGet)
	a.handle("/requests", adm.Guard(adm.ClearRequests), http.MethodDelete)
	a.handle("/verify", adm.Guard(adm.Verify), http.MethodPost)
	a.handle("/unmatched", adm.Guard(adm.Unmatched), http.MethodGet)
	a.handle("/webhooks/deliveries", adm.Guard(adm.Deliveries), http.MethodGet)
	a.handle("/clock", adm.Guard(adm.Clock), http.MethodGet, http.MethodPost)
	a.handle("/requests/{id}", adm.Guard(adm.Request), http.MethodGet)
	a.handle("/requests/{id}/body", adm.Guard(adm.RequestBody), http.MethodGet)
	a.handle("/sessions", adm.Guard(adm.Sessions), http.MethodGet)
	a.handle("/conversations", adm.Guard(adm.Conversations), http.MethodGet)
	a.handle("/events/stream", adm.Guard(adm.Stream), http.MethodGet)
	a.handle("/import/har", adm.Guard(adm.ImportHAR), http.MethodPost)
	// The inspector's page and files and the documents hold no data: they
	// load without the admin token, and the page asks for it when the API
	// answers 401.
	a.handle("/openapi/{name}.json", adm.OpenAPI, http.MethodGet)
	a.handle("/schema/fixtures.json", adm.FixturesSchema, http.MethodGet)
	a.handle("", adm.InspectorRedirect, http.MethodGet)
	a.handle("/", adm.Inspector, http.MethodGet)
	a.handle("/inspector/{file}", adm.Inspector, http.MethodGet)

	// The Workspace API's document where its FastAPI service serves it.
	root.Path("/openapi.json").Handler(s.surfaced(publicWorkspaceSurface, ws.OpenAPI))

	// Outside every group: a path whose first segment is v1 (`/v1`,
	// `//v1/messages`) is the Conversations API's, whose base URL ends in
	// /v1; __mock is the admin API's; the rest of the host — `/`, `/API/…`,
	// `/openapi.JSON` — belongs to the Workspace API's FastAPI service, whose
	// paths start at the root: its 404, and its 307 for a toggled slash.
	root.MatcherFunc(firstSegment("v1")).Handler(s.surfaced(conversationsSurface, noRoute))
	root.MatcherFunc(firstSegment("__mock")).Handler(s.surfaced(adminSurface, noRoute))
	root.NotFoundHandler = redirectSlashes(root, s.surfaced(workspaceSurface, noRoute))
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
		x := wire.Of(w)
		if r.URL.RawPath == "" {
			if h := static[r.URL.Path][r.Method]; h != nil {
				h.ServeHTTP(w, r)
				return
			}
		}
		match := mux.RouteMatch{Vars: x.Vars}
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

// A surface is one group of routes that answers in one shape: its errors
// (404 and 405 included; a panic's 500 too), whether its requests are
// journaled, and how it routes.
type surface struct {
	shape     wire.Shape
	journaled bool
	// starlette routes as a FastAPI service does: GET does not serve HEAD,
	// a 405's Allow lists the methods of the first route for the path, and
	// a path that matches once its trailing slash is toggled answers 307
	// to it (redirect_slashes).
	starlette bool
}

var (
	conversationsSurface = &surface{shape: conversations.Dialect{}, journaled: true}
	workspaceSurface     = &surface{shape: workspace.Dialect{}, journaled: true, starlette: true}
	adminSurface         = &surface{shape: admin.Shape{}}
	// publicWorkspaceSurface answers /openapi.json as the Workspace API's
	// service would, without a journal entry.
	publicWorkspaceSurface = &surface{shape: workspace.Dialect{}, starlette: true}
)

// noRoute and noMethod are every surface's 404 and 405, in its shape.
func noRoute(x *wire.Exchange, r *http.Request) *wire.Problem {
	return &wire.Problem{Status: http.StatusNotFound, Kind: wire.NoRoute, Subject: r.URL.Path}
}

func noMethod(x *wire.Exchange, r *http.Request) *wire.Problem {
	return &wire.Problem{Status: http.StatusMethodNotAllowed, Kind: wire.NoMethod, Subject: r.Method}
}

// group is one surface's subrouter.
type group struct {
	s      *Server
	router *mux.Router
	sf     *surface
}

func (s *Server) group(root *mux.Router, prefix string, sf *surface, also ...mux.MatcherFunc) group {
	route := root.PathPrefix(prefix)
	for _, m := range also {
		route = route.MatcherFunc(m)
	}
	sub := route.Subrouter()
	notFound := s.surfaced(sf, noRoute)
	allow := allowed
	if sf.starlette {
		notFound = redirectSlashes(sub, notFound)
		allow = firstRouteMethods
	}
	sub.NotFoundHandler = notFound
	sub.MethodNotAllowedHandler = s.surfaced(sf, func(x *wire.Exchange, r *http.Request) *wire.Problem {
		x.Header().Set("Allow", allow(sub, r))
		return noMethod(x, r)
	})
	return group{s: s, router: sub, sf: sf}
}

// handle routes path (below the group's prefix) for methods; GET serves
// HEAD too, except on a Starlette surface.
func (g group) handle(path string, h wire.HandlerFunc, methods ...string) {
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

// surfaced serves h as part of sf: it marks the request's exchange with
// the surface (for the journal and for a panic's 500) and writes the
// problem h returns, once, in the surface's shape.
func (s *Server) surfaced(sf *surface, h wire.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := wire.Of(w)
		x.Shape, x.Journaled = sf.shape, sf.journaled
		p := wire.CheckSession(r)
		if p == nil {
			p = h(x, r)
		}
		if p != nil {
			sf.shape.WriteProblem(x, p)
		}
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

// under matches prefix itself and the paths below it (not /v1abc, which a
// bare PathPrefix would).
func under(prefix string) mux.MatcherFunc {
	return func(r *http.Request, _ *mux.RouteMatch) bool {
		p := r.URL.Path
		return p == prefix || strings.HasPrefix(p, prefix+"/")
	}
}

// firstSegment matches paths whose first non-empty segment is name.
func firstSegment(name string) mux.MatcherFunc {
	return func(r *http.Request, _ *mux.RouteMatch) bool {
		p := strings.TrimLeft(r.URL.Path, "/")
		return p == name || strings.HasPrefix(p, name+"/")
	}
}
