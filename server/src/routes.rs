//! The route table as data: every module registers its routes through [`Routes`], which either
//! hands them to actix or lists them (method + path pattern). `bugle-server routes` prints the
//! list, and the authorization matrix (tests/e2e/authorization.rs) fails for a route it lacks.

use actix_web::http::Method;
use actix_web::{guard, web, FromRequest, Handler, Responder};

/// One registered route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    pub path: &'static str,
}

/// Where routes go: the actix app, or a list.
pub struct Routes<'a> {
    sink: Sink<'a>,
}

enum Sink<'a> {
    App(&'a mut web::ServiceConfig),
    List(&'a mut Vec<Route>),
}

impl<'a> Routes<'a> {
    pub fn app(cfg: &'a mut web::ServiceConfig) -> Self {
        Routes {
            sink: Sink::App(cfg),
        }
    }

    pub fn list(out: &'a mut Vec<Route>) -> Self {
        Routes {
            sink: Sink::List(out),
        }
    }

    /// `method path` answered by `handler`.
    pub fn add<F, Args>(&mut self, method: Method, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add_resource(method, path, handler, |r| r)
    }

    /// As [`Routes::add`], with `data` reachable by the handler as `web::Data<T>`.
    pub fn add_with_data<T, F, Args>(
        &mut self,
        method: Method,
        path: &'static str,
        data: T,
        handler: F,
    ) -> &mut Self
    where
        T: 'static,
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add_resource(method, path, handler, |r| r.app_data(web::Data::new(data)))
    }

    fn add_resource<F, Args>(
        &mut self,
        method: Method,
        path: &'static str,
        handler: F,
        extra: impl FnOnce(actix_web::Resource) -> actix_web::Resource,
    ) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        match &mut self.sink {
            // The method guard sits on the resource, so another method on the same path falls
            // through to its own resource (as `ServiceConfig::route` does).
            Sink::App(cfg) => {
                let resource = web::resource(path).guard(guard::Method(method));
                cfg.service(extra(resource).to(handler));
            }
            Sink::List(out) => out.push(Route { method, path }),
        }
        self
    }

    pub fn get<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::GET, path, handler)
    }

    pub fn post<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::POST, path, handler)
    }

    pub fn put<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::PUT, path, handler)
    }

    pub fn patch<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::PATCH, path, handler)
    }

    pub fn delete<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::DELETE, path, handler)
    }
}
